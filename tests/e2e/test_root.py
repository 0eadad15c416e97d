"""A daemon run as root: an in-place edit never corrupts the store unnoticed.

Root writes a 0444 file without a chmod, so a checked-out hardlink is no
protection. By default (``link_mode = "auto"``) a root daemon copies: the
append changes root's own copy, the object stays whole, and every version
still reads the right bytes. With ``link_mode = "hardlink"`` (the explicit
opt-in, warned about at start) the append does reach the object; then status
reports it in every workspace holding it, checkout refuses the damaged
object, and adding the original bytes again repairs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from tests.support.daemon import Daemon
from tests.support.runtime import Identity, Runtime

ROOT = Identity("root", 0, 0)
STORE_CORRUPT = 7


def _root_daemon(runtime: Runtime, **env: str) -> Iterator[Daemon]:
    if os.geteuid() != 0:
        pytest.skip("a daemon run as root needs the suite to run as root")
    home = runtime.make_dir(ROOT, "root-home")
    daemon = Daemon(runtime, ROOT, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env=env).start()
    yield daemon
    daemon.stop()


@pytest.fixture
def root_daemon(runtime: Runtime) -> Iterator[Daemon]:
    yield from _root_daemon(runtime)


@pytest.fixture
def root_hardlink_daemon(runtime: Runtime) -> Iterator[Daemon]:
    yield from _root_daemon(runtime, WORKSPACE_LINK_MODE="hardlink")


def _project(daemon: Daemon, runtime: Runtime) -> Path:
    project = runtime.make_dir(ROOT, "root-project")
    (project / "data").mkdir()
    (project / "data" / "labels.csv").write_text("a,1\n")
    (project / "data" / "other.csv").write_text("b,2\n")
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
    return project


def _object(daemon: Daemon, project: Path, name: str = "labels.csv") -> tuple[str, Path]:
    files = daemon.ws_json("ls", "vision/cats", cwd=project)["files"]
    oid = next(f["oid"] for f in files if f["path"] == name)
    return oid, daemon.store / "objects" / oid[:2] / oid[2:]


def _append(path: Path, text: str) -> None:
    with path.open("a") as handle:  # as root: `echo x >> path`, no chmod needed
        handle.write(text)


def _modified(daemon: Daemon, project: Path, path: str) -> list[str]:
    (entry,) = daemon.ws_json("status", path, cwd=project)["tracked"]
    return list(entry["modified"])


def test_by_default_a_root_daemon_copies_and_an_append_cannot_reach_the_store(
        root_daemon: Daemon, runtime: Runtime) -> None:
    project = _project(root_daemon, runtime)
    oid, obj = _object(root_daemon, project)
    labels = project / "data" / "labels.csv"
    assert labels.stat().st_ino != obj.stat().st_ino  # root's own file, not the object

    _append(labels, "x\n")

    assert blake3.blake3(obj.read_bytes()).hexdigest() == oid
    assert _modified(root_daemon, project, "data") == ["labels.csv"]
    root_daemon.ws("get", "vision/cats@1", "again", cwd=project)
    again = project / "again" / "labels.csv"
    assert again.read_text() == "a,1\n" and again.stat().st_ino != obj.stat().st_ino
    assert root_daemon.ws_json("status", "again", cwd=project)["tracked"][0]["clean"]


def test_with_hardlinks_opted_in_an_append_is_reported_refused_and_repairable(
        root_hardlink_daemon: Daemon, runtime: Runtime) -> None:
    daemon = root_hardlink_daemon
    assert "RUNNING AS ROOT" in daemon.log_path.read_text()
    project = _project(daemon, runtime)
    daemon.ws("get", "vision/cats@1", "copy", cwd=project)
    oid, obj = _object(daemon, project)
    assert (project / "copy" / "labels.csv").stat().st_ino == obj.stat().st_ino

    _append(project / "copy" / "labels.csv", "x\n")  # through the other link: no event on data/

    assert _modified(daemon, project, "data") == ["labels.csv"]
    assert _modified(daemon, project, "copy") == ["labels.csv"]
    refused = daemon.ws("get", "vision/cats@1", "third", cwd=project, check=False)
    assert refused.returncode == STORE_CORRUPT, refused.stderr
    assert "damaged" in refused.stderr and not (project / "third" / "labels.csv").exists()

    (project / "fresh").mkdir()
    (project / "fresh" / "labels.csv").write_text("a,1\n")  # the original bytes, added again
    daemon.ws("add", "fresh", "-d", "vision/repair", "-m", "repair", cwd=project)
    assert blake3.blake3(obj.read_bytes()).hexdigest() == oid
    daemon.ws("checkout", "data", "--force", cwd=project)
    daemon.ws("get", "vision/cats@1", "third", cwd=project)
    for where in ("data", "third", "fresh"):
        assert (project / where / "labels.csv").read_text() == "a,1\n"
        assert daemon.ws_json("status", where, cwd=project)["tracked"][0]["clean"]

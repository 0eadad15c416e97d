"""File names that cannot be stored are refused before anything is touched.

A dataset path must be valid UTF-8 without control characters (docs/design.md,
"File names"). Such a name anywhere in the tree makes add and commit fail
with exit 2, naming the path escaped, while the tree, the store and the
database stay exactly as they were; status lists it and does not fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, give
from tests.support.runtime import Runtime
from tests.support.service import inodes_of, store_objects

USAGE = 2

BAD_NAMES = [
    pytest.param(b"\xff\xfe.csv", "\\xff\\xfe.csv", id="not-utf8"),
    pytest.param(b"line\nbreak.csv", "line\\nbreak.csv", id="newline"),
    pytest.param(b"red\x1b[31m.csv", "red\\x1b[31m.csv", id="escape-sequence"),
    pytest.param(b"c1\xc2\x9b2J.csv", "c1\\u009b2J.csv", id="c1-control"),
    pytest.param(b"dir\xff/inside.csv", "dir\\xff/inside.csv", id="bad-directory"),
]


@pytest.fixture(scope="module")
def names_daemon(runtime: Runtime) -> Iterator[Daemon]:
    """One single-user daemon (SQLite) for the whole module: names do not depend on the DB."""
    owner = runtime.user("alice")
    home = runtime.make_dir(owner, "home")
    running = Daemon(runtime, owner, home, f"sqlite:///{home / 'workspace.db'}").start()
    yield running
    running.stop()


@pytest.fixture
def project(names_daemon: Daemon, runtime: Runtime) -> Path:
    path = runtime.make_dir(names_daemon.owner, "project")
    names_daemon.ws("init", cwd=path)
    return path


def _dataset(project: Path, what: str) -> str:
    """A dataset name of its own for each test: they share one daemon."""
    return f"names/{what}-{project.name.lower()}"


def _plant(base: Path, raw: bytes, data: bytes = b"odd\n") -> None:
    target = os.fsencode(base) + b"/" + raw
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(data)


def _snapshot(daemon: Daemon, project: Path) -> tuple[object, ...]:
    tmp = sorted(os.listdir(daemon.store / "tmp")) if (daemon.store / "tmp").exists() else []
    return inodes_of(project), store_objects(daemon.store), tmp


def _refused(daemon: Daemon, project: Path, shown: str, *args: str) -> None:
    proc = daemon.ws(*args, cwd=project, check=False)
    assert proc.returncode == USAGE, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert f"data/{shown}" in proc.stderr and "rename" in proc.stderr


@pytest.mark.parametrize(("raw", "shown"), BAD_NAMES)
def test_add_refuses_a_bad_name_and_changes_nothing(names_daemon: Daemon, project: Path,
                                                    raw: bytes, shown: str) -> None:
    (project / "data").mkdir()
    (project / "data" / "good.csv").write_bytes(b"a,1\n" * 100)
    _plant(project / "data", raw)
    give(project, names_daemon.owner)
    before = _snapshot(names_daemon, project)

    dataset = _dataset(project, "add")
    _refused(names_daemon, project, shown, "add", "data", "-d", dataset, "-m", "x")

    assert _snapshot(names_daemon, project) == before  # same inodes, modes, bytes; no objects
    assert not (project / "data.ws").exists()
    listed = names_daemon.ws_json("datasets", cwd=project)["datasets"]
    assert dataset not in [d["name"] for d in listed]


@pytest.mark.parametrize(("raw", "shown"), [BAD_NAMES[0], BAD_NAMES[2]])  # the check is shared
def test_commit_refuses_a_bad_name_and_changes_nothing(names_daemon: Daemon, project: Path,
                                                       raw: bytes, shown: str) -> None:
    dataset = _dataset(project, "commit")
    (project / "data").mkdir()
    (project / "data" / "good.csv").write_bytes(b"a,1\n")
    give(project, names_daemon.owner)
    names_daemon.ws("add", "data", "-d", dataset, "-m", "v1", cwd=project)
    (project / "data" / "new.csv").write_bytes(b"fresh content\n")
    _plant(project / "data", raw)
    give(project, names_daemon.owner)
    status = names_daemon.ws_json("status", cwd=project)["tracked"][0]
    assert not status["clean"] and f"{shown}" in status["added"] and "new.csv" in status["added"]
    before = _snapshot(names_daemon, project)

    _refused(names_daemon, project, shown, "commit", "data", "-m", "x")

    assert _snapshot(names_daemon, project) == before
    assert names_daemon.ws_json("log", dataset, cwd=project)["versions"][0]["number"] == 1


def test_a_bad_name_left_out_with_skip_is_still_refused(names_daemon: Daemon,
                                                        project: Path) -> None:
    """--skip-symlinks leaves out what is not a regular file; a file it cannot name is an error."""
    (project / "data").mkdir()
    _plant(project / "data", b"\xff.bin")
    give(project, names_daemon.owner)
    _refused(names_daemon, project, "\\xff.bin", "add", "data", "-d", _dataset(project, "skip"),
             "-m", "x", "--skip-symlinks")


def test_fine_unicode_names_are_stored(names_daemon: Daemon, project: Path) -> None:
    """Only invalid bytes and control characters are refused: spaces, accents, emoji are fine."""
    (project / "data").mkdir()
    for name in ("caf\u00e9 menu.csv", "\u65e5\u672c.txt", "back\\slash", "\U0001f408.png"):
        (project / "data" / name).write_text(name)
    give(project, names_daemon.owner)
    dataset = _dataset(project, "fine")
    done = names_daemon.ws_json("add", "data", "-d", dataset, "-m", "x", cwd=project)
    assert done["summary"]["files"] == 4
    listed = {f["path"] for f in names_daemon.ws_json("ls", dataset, cwd=project)["files"]}
    assert "caf\u00e9 menu.csv" in listed and "\U0001f408.png" in listed

"""The store's promises, seen from outside: shared read-only inodes, and crash safety."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import blake3
import pytest
import sqlalchemy as sa

from tests.support.daemon import Daemon, as_user, give
from workspace.store.jobs import IN_THREAD_BELOW


def _object_path(daemon: Daemon, oid: str) -> Path:
    return daemon.store / "objects" / oid[:2] / oid[2:]


def _as_owner(daemon: Daemon, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([daemon.runtime.python, "-c", code], capture_output=True, text=True,
                          env=daemon.env(), **as_user(daemon.runtime, daemon.owner))


def test_checked_out_file_is_the_store_object_and_cannot_be_written(
        daemon: Daemon, project: Path) -> None:
    data = project / "data"
    data.mkdir()
    (data / "labels.csv").write_text("a,1\n")
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "team/labels", "-m", "v1", cwd=project)
    daemon.ws("get", "team/labels@1", "copy", cwd=project)

    (entry,) = daemon.ws_json("ls", "team/labels", cwd=project)["files"]
    obj = _object_path(daemon, entry["oid"])
    for linked in (data / "labels.csv", project / "copy" / "labels.csv"):
        assert linked.stat().st_ino == obj.stat().st_ino
        assert linked.stat().st_mode & 0o777 == 0o444
    attempt = _as_owner(daemon, f"open({str(project / 'copy' / 'labels.csv')!r}, 'a')")
    assert attempt.returncode != 0 and "Permission denied" in attempt.stderr
    assert obj.read_text() == "a,1\n"


def test_killing_the_daemon_mid_add_leaves_no_partial_object_and_no_dangling_version(
        daemon: Daemon, project: Path) -> None:
    data = project / "data"
    for part in range(40):
        (data / f"d{part}").mkdir(parents=True)
        for index in range(50):
            (data / f"d{part}" / f"f{index}.bin").write_bytes(os.urandom(32_768))
    before = {p: p.read_bytes() for p in data.rglob("*.bin")}
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)

    add = subprocess.Popen(
        [daemon.runtime.python, "-m", "workspace.cli.main", "add", "data", "-d", "big/set",
         "-m", "interrupted"], cwd=project, env=daemon.env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        **as_user(daemon.runtime, daemon.owner))
    _wait_until_staging(daemon)
    daemon.kill()
    _, err = add.communicate(timeout=30)
    assert add.returncode != 0 and "daemon" in err

    _assert_every_object_hashes_to_its_name(daemon)
    _assert_no_version_references_a_missing_object(daemon)
    assert {p: p.read_bytes() for p in data.rglob("*.bin")} == before  # nothing lost

    daemon.start()
    assert list((daemon.store / "tmp").iterdir()) == []
    done = daemon.ws_json("add", "data", "-d", "big/set", "-m", "again", cwd=project)
    assert done["version"]["number"] == 1 and done["summary"]["files"] == 2000
    _assert_no_version_references_a_missing_object(daemon)
    assert daemon.ws_json("status", cwd=project)["tracked"][0]["clean"]


def _wait_until_staging(daemon: Daemon, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    tmp = daemon.store / "tmp"
    while time.monotonic() < deadline:
        if tmp.is_dir() and any(tmp.iterdir()):
            return
        time.sleep(0.002)
    raise AssertionError("the add never started staging objects")


def _assert_every_object_hashes_to_its_name(daemon: Daemon) -> None:
    for fanout in (daemon.store / "objects").iterdir():
        for obj in fanout.iterdir():
            assert blake3.blake3(obj.read_bytes()).hexdigest() == fanout.name + obj.name


def _assert_no_version_references_a_missing_object(daemon: Daemon) -> None:
    engine = sa.create_engine(daemon.database_url)
    with engine.connect() as conn:
        oids = conn.execute(sa.text("SELECT DISTINCT oid FROM entries")).scalars().all()
    engine.dispose()
    for oid in oids:
        assert _object_path(daemon, oid).is_file(), oid


@pytest.mark.parametrize("files", [3, IN_THREAD_BELOW + 88], ids=["in-thread", "workers"])
def test_a_checkout_of_a_lost_object_names_it_and_says_what_to_do(
        sqlite_daemon: Daemon, project: Path, files: int) -> None:
    """No remote to fetch from: the checkout is refused with the object and a hint, as the
    file workers (or the thread) find the object missing while linking."""
    daemon = sqlite_daemon
    data = project / "data"
    data.mkdir()
    for i in range(files):
        (data / f"f{i:04d}.txt").write_text(f"file {i}\n")
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "team/many", "-m", "v1", cwd=project)
    lost = daemon.ws_json("ls", "team/many", cwd=project)["files"][files // 2]["oid"]
    _object_path(daemon, lost).unlink()

    refused = daemon.ws("get", "team/many", "copy", cwd=project, check=False)
    assert refused.returncode == 3, refused.stderr
    assert f"object {lost} is not in the store" in refused.stderr
    assert "garbage-collected" in refused.stderr
    tracked = daemon.ws_json("status", cwd=project)["tracked"]
    assert [t["path"] for t in tracked] == ["data"]  # copy/ was not recorded

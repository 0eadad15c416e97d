"""A full file system is DiskFull (exit 9), naming it and its free space, with nothing half done.

Each test makes a small file system of its own (``tests/support/smallfs.py``)
and removes it afterwards; without root or a loop device they are skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import blake3

from tests.support.daemon import Daemon, give, tree_of
from tests.support.runtime import Identity, Runtime
from tests.support.service import inodes_of
from tests.support.smallfs import MIB, fill, free_bytes, small_fs

DISK_FULL = 9


@contextlib.contextmanager
def running(daemon: Daemon) -> Iterator[Daemon]:
    """Started, and stopped before its file system is unmounted."""
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def _disk_full(daemon: Daemon, project: Path, *args: str, plain: bool = False,
               ) -> dict[str, object]:
    if plain:  # as a person reads it, once: each run fills the disk again
        shown = daemon.ws(*args, cwd=project, check=False)
        assert shown.returncode == DISK_FULL, (shown.returncode, shown.stdout, shown.stderr)
        assert "Traceback" not in shown.stderr and "internal error" not in shown.stderr
        assert "free" in shown.stderr and "hint:" in shown.stderr
    proc = daemon.ws(*args, "--json", cwd=project, check=False)
    assert proc.returncode == DISK_FULL, (proc.returncode, proc.stderr)
    error: dict[str, object] = json.loads(proc.stderr)["error"]
    assert error["code"] == "disk_full"
    return error


def _objects_whole(store: Path) -> None:
    """Every object hashes to its name (no partial object), and no temp is left over."""
    assert os.listdir(store / "tmp") == []
    for fanout in (store / "objects").iterdir():
        for obj in fanout.iterdir():
            assert blake3.blake3(obj.read_bytes()).hexdigest() == fanout.name + obj.name


def test_an_add_larger_than_the_store_file_system_is_disk_full(
        runtime: Runtime, alice: Identity) -> None:
    home = runtime.make_dir(alice, "home")
    with small_fs(runtime.scratch, 16, alice) as mount, running(Daemon(
            runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
            extra_env={"WORKSPACE_STORE": str(mount / "store")})) as daemon:
        project = runtime.make_dir(alice, "project")
        (project / "big").mkdir()
        (project / "big" / "blob.bin").write_bytes(os.urandom(free_bytes(mount) + 4 * MIB))
        (project / "small").mkdir()
        for index in range(20):
            (project / "small" / f"s{index}.csv").write_text(f"row {index}\n" * 100)
        give(project, alice)
        daemon.ws("init", cwd=project)
        before = inodes_of(project)

        error = _disk_full(daemon, project, "add", "big", "-d", "full/big", "-m", "too big")

        details = error["details"]
        assert isinstance(details, dict)
        assert details["mount"] == str(mount) and str(mount) in str(error["message"])
        size = (project / "big" / "blob.bin").stat().st_size
        assert details["needed_bytes"] == size  # and what is free once the temp is gone:
        assert isinstance(details["free_bytes"], int) and 0 < size - details["free_bytes"] < 5 * MIB
        assert inodes_of(project) == before  # same inodes, modes and bytes
        _objects_whole(mount / "store")
        assert not (project / "big.ws").exists()

        done = daemon.ws_json("add", "small", "-d", "full/small", "-m", "fits", cwd=project)
        assert done["summary"]["files"] == 20
        assert all(t["clean"] for t in daemon.ws_json("status", cwd=project)["tracked"])
        names = [d["name"] for d in daemon.ws_json("datasets", cwd=project)["datasets"]]
        assert names == ["full/small"]


def test_a_full_database_file_system_is_disk_full(runtime: Runtime, alice: Identity) -> None:
    home = runtime.make_dir(alice, "home")
    with small_fs(runtime.scratch, 16, alice) as mount, running(Daemon(
            runtime, alice, home, f"sqlite:///{mount / 'workspace.db'}")) as daemon:
        database = mount / "workspace.db"
        project = runtime.make_dir(alice, "project")
        (project / "data").mkdir()
        for index in range(300):
            (project / "data" / f"f{index:03d}.csv").write_text(f"{index}," * 20)
        (project / "tiny").mkdir()
        (project / "tiny" / "t.txt").write_text("tiny\n")
        give(project, alice)
        daemon.ws("init", cwd=project)
        daemon.ws("add", "tiny", "-d", "full/tiny", "-m", "before", cwd=project)
        with contextlib.closing(sqlite3.connect(database)) as conn:  # an empty WAL must grow
            assert conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        filler = fill(mount)
        before = tree_of(project)

        error = _disk_full(daemon, project, "add", "data", "-d", "full/db", "-m", "no room",
                           plain=True)

        details = error["details"]
        assert isinstance(details, dict) and details["mount"] == str(mount)
        assert "the database" in str(error["message"])
        assert tree_of(project) == before  # maybe relinked to their objects: the same bytes
        _objects_whole(home / "store")
        assert [d["name"] for d in daemon.ws_json("datasets", cwd=project)["datasets"]] == [
            "full/tiny"]
        os.utime(project / "tiny" / "t.txt")  # status hashes it, and cannot save that it did
        assert daemon.ws_json("status", "tiny", cwd=project)["tracked"][0]["clean"]

        filler.unlink()
        done = daemon.ws_json("add", "data", "-d", "full/db", "-m", "room again", cwd=project)
        assert done["summary"]["files"] == 300 and done["version"]["number"] == 1
        assert all(t["clean"] for t in daemon.ws_json("status", cwd=project)["tracked"])

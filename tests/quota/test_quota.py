"""Quotas and min_free: a write that would not fit is refused before anything is stored."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gc.helpers import write
from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime


def _store_files(daemon: Daemon) -> set[str]:
    return {str(p.relative_to(daemon.store)) for p in daemon.store.rglob("*") if p.is_file()
            and p.name != "id"}


def test_a_commit_past_a_quota_is_refused_before_any_file_is_staged(
        daemon: Daemon, project: Path) -> None:
    write(project / "scratch" / "a.bin", os.urandom(60_000))
    write(project / "other" / "b.bin", os.urandom(90_000))
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    assert daemon.ws_json("quota", "set", "scratch/*", "100K", cwd=project)["bytes"] == 102_400
    daemon.ws("add", "scratch", "-d", "scratch/a", "-m", "fits", cwd=project)
    daemon.ws("add", "other", "-d", "vision/b", "-m", "no quota here", cwd=project)

    write(project / "scratch" / "more.bin", os.urandom(60_000))
    give(project, daemon.owner)
    before = _store_files(daemon)
    refused = daemon.ws("commit", "scratch", "-m", "too much", cwd=project, check=False)
    assert refused.returncode == 10, refused.stderr
    assert "quota on scratch/*" in refused.stderr and "60,000 bytes" in refused.stderr
    assert _store_files(daemon) == before  # nothing staged, nothing published
    assert (project / "scratch" / "more.bin").stat().st_nlink == 1  # still the user's file
    (quota,) = daemon.ws_json("quota", "list", cwd=project)["quotas"]
    assert (quota["pattern"], quota["used"]) == ("scratch/*", 60_000)

    daemon.ws("quota", "set", "scratch/*", "1M", cwd=project)
    daemon.ws("commit", "scratch", "-m", "fits now", cwd=project)
    daemon.ws("quota", "rm", "scratch/*", cwd=project)
    assert daemon.ws_json("quota", "list", cwd=project)["quotas"] == []
    actions = {e["action"] for e in daemon.ws_json("audit", "--limit", "50",
                                                   cwd=project)["events"]}
    assert {"store:quota:set", "store:quota:remove"} <= actions


def test_du_counts_logical_physical_and_unique_bytes(sqlite_daemon: Daemon,
                                                    project: Path) -> None:
    daemon = sqlite_daemon
    shared, own = os.urandom(10_000), os.urandom(3_000)
    write(project / "a" / "shared.bin", shared)
    write(project / "b" / "shared.bin", shared)
    write(project / "b" / "own.bin", own)
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "a", "-d", "team/a", "-m", "1", cwd=project)
    daemon.ws("add", "b", "-d", "team/b", "-m", "1", cwd=project)
    write(project / "b" / "new.bin", b"x" * 500)
    give(project, daemon.owner)
    daemon.ws("commit", "b", "-m", "2", cwd=project)

    groups = {g["name"]: g for g in daemon.ws_json("du", "team/*", cwd=project)["groups"]}
    assert (groups["team/a"]["logical"], groups["team/a"]["physical"],
            groups["team/a"]["unique"]) == (10_000, 10_000, 0)
    assert (groups["team/b"]["versions"], groups["team/b"]["logical"],
            groups["team/b"]["physical"], groups["team/b"]["unique"]) == (
        2, 13_000 + 13_500, 13_500, 3_500)
    (user,) = daemon.ws_json("du", "--by", "user", cwd=project)["groups"]
    assert (user["name"], user["physical"]) == (daemon.owner.name, 13_500)


@pytest.fixture
def small_filesystem(runtime: Runtime, alice: Identity) -> Iterator[Path]:
    """A 64 MiB ext4 file system, loop-mounted for this test and removed after it."""
    image = runtime.scratch / f"fs-{os.getpid()}-{id(runtime)}.img"
    mount = runtime.make_dir(alice, "small-fs")
    subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    subprocess.run(["mount", "-o", "loop", str(image), str(mount)], check=True)
    try:
        os.chown(mount, alice.uid, alice.gid)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        image.unlink(missing_ok=True)


def test_min_free_refuses_writes_that_would_fill_the_disk_and_keeps_serving_reads(
        runtime: Runtime, alice: Identity, small_filesystem: Path, project: Path) -> None:
    home = small_filesystem / "home"
    home.mkdir()
    os.chown(home, alice.uid, alice.gid)
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_MIN_FREE": "20M"}).start()
    try:
        write(project / "first" / "a.bin", os.urandom(10 << 20))
        write(project / "big" / "b.bin", os.urandom(25 << 20))
        give(project, daemon.owner)
        daemon.ws("init", cwd=project)
        daemon.ws("add", "first", "-d", "team/first", "-m", "fits", cwd=project)

        before = _store_files(daemon)
        refused = daemon.ws("add", "big", "-d", "team/big", "-m", "too big", "--json",
                            cwd=project, check=False)
        assert refused.returncode == 9, refused.stderr
        error = json.loads(refused.stderr)["error"]
        assert error["code"] == "disk_full" and "min_free" in error["message"]
        assert error["details"]["needed"] == 25 << 20
        assert error["details"]["free"] - (25 << 20) < error["details"]["min_free"]
        assert _store_files(daemon) == before
        assert list((daemon.store / "tmp").iterdir()) == []

        daemon.ws("get", "team/first", "again", cwd=project)  # reads keep working
        assert (project / "again" / "a.bin").read_bytes() == (project / "first" /
                                                              "a.bin").read_bytes()
        daemon.ws("rm", "team/first", "--force", cwd=project)
        assert daemon.ws_json("gc", "--grace", "0", cwd=project)["removed"] == 1
        daemon.ws("add", "big", "-d", "team/big", "-m", "fits now", cwd=project)
    finally:
        daemon.stop()

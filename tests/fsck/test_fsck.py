"""`ws fsck` and the scrub against a real daemon: find damage, quarantine, refuse, repair."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import blake3

from tests.gc.helpers import object_path, write
from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime


def _two_versions(daemon: Daemon, project: Path) -> str:
    """vision/cats@1 and @2 share labels.csv; returns its object id."""
    write(project / "data" / "labels.csv", b"name,label\ncat001.jpg,tabby\n")
    write(project / "data" / "img.bin", os.urandom(20_000))
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
    write(project / "data" / "img.bin", os.urandom(20_000))
    give(project, daemon.owner)
    daemon.ws("commit", "data", "-m", "v2", cwd=project)
    return blake3.blake3((project / "data" / "labels.csv").read_bytes()).hexdigest()


def _flip_a_byte(path: Path) -> None:
    """What a disk error or an in-place edit as root does to an object."""
    with open(path, "r+b") as handle:
        first = handle.read(1)
        handle.seek(0)
        handle.write(bytes([first[0] ^ 0x01]))


def test_a_corrupt_object_is_found_quarantined_refused_and_repaired_from_a_workspace(
        daemon: Daemon, project: Path) -> None:
    oid = _two_versions(daemon, project)
    daemon.ws("unlock", "data/labels.csv", cwd=project)  # alice's private copy: still good
    _flip_a_byte(object_path(daemon, oid))

    assert daemon.ws_json("fsck", cwd=project)["ok"]  # same size: only re-hashing sees it
    found = daemon.ws("fsck", "--read-data", "--json", cwd=project, check=False)
    assert found.returncode == 7, found.stderr
    report = json.loads(found.stdout)
    assert [(p["kind"], p["oid"]) for p in report["problems"]] == [("corrupt", oid)]
    (damaged,) = report["newly_damaged"]
    assert damaged["versions"] == ["vision/cats@1", "vision/cats@2"]
    assert not object_path(daemon, oid).exists()
    assert (daemon.store / "quarantine" / damaged["quarantined_as"]).is_file()

    for args in (("blame", "vision/cats@1"), ("get", "vision/cats@2", "copy"),
                 ("ls", "vision/cats"), ("checkout", "data", "--version", "1")):
        refused = daemon.ws(*args, cwd=project, check=False)
        assert refused.returncode == 7, (args, refused.stderr)
        assert "damaged" in refused.stderr and "labels.csv" in refused.stderr
    versions = daemon.ws_json("log", "vision/cats", cwd=project)["versions"]
    assert [v["damaged"] for v in versions] == [["labels.csv"], ["labels.csv"]]

    repaired = daemon.ws_json("fsck", "--repair", cwd=project)
    assert repaired["ok"] and repaired["repaired"] == [
        {"oid": oid, "source": f"workspace:{project}/data/labels.csv"}]
    assert blake3.blake3(object_path(daemon, oid).read_bytes()).hexdigest() == oid
    daemon.ws("get", "vision/cats@1", "copy", cwd=project)
    assert (project / "copy" / "labels.csv").read_bytes().startswith(b"name,label")
    actions = [e["action"] for e in daemon.ws_json("audit", "--limit", "20",
                                                   cwd=project)["events"]]
    assert "store:object:quarantine" in actions and "store:object:repair" in actions


def test_a_missing_object_is_restored_from_a_workspace_link(sqlite_daemon: Daemon,
                                                            project: Path) -> None:
    daemon = sqlite_daemon
    oid = _two_versions(daemon, project)
    object_path(daemon, oid).unlink()  # the workspace's hardlink keeps the bytes

    missing = daemon.ws("fsck", "--json", cwd=project, check=False)
    assert missing.returncode == 7
    assert [p["kind"] for p in json.loads(missing.stdout)["problems"]] == ["missing"]
    assert daemon.ws("ls", "vision/cats@2", cwd=project, check=False).returncode == 7
    assert daemon.ws_json("fsck", "--repair", cwd=project)["ok"]
    assert daemon.ws_json("fsck", "--read-data", cwd=project)["ok"]
    assert len(daemon.ws_json("ls", "vision/cats@2", cwd=project)["files"]) == 2


def test_writable_and_stray_entries_are_reported_and_modes_repaired(
        sqlite_daemon: Daemon, project: Path) -> None:
    daemon = sqlite_daemon
    oid = _two_versions(daemon, project)
    object_path(daemon, oid).chmod(0o644)
    stray = daemon.store / "objects" / oid[:2] / "not-an-object"
    stray.write_bytes(b"?")
    give(daemon.store, daemon.owner)

    proc = daemon.ws("fsck", "--json", cwd=project, check=False)
    assert proc.returncode == 7
    kinds = sorted(p["kind"] for p in json.loads(proc.stdout)["problems"])
    assert kinds == ["stray", "writable"]
    stray.unlink()
    assert daemon.ws_json("fsck", "--repair", cwd=project)["modes_fixed"] == [oid]
    assert object_path(daemon, oid).stat().st_mode & 0o777 == 0o444
    assert daemon.ws_json("fsck", cwd=project)["ok"]


def test_the_scrub_verifies_slices_in_the_background_and_finds_corruption(
        runtime: Runtime, alice: Identity, project: Path) -> None:
    home = runtime.make_dir(alice, "home")
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_SCRUB_INTERVAL": "1",
                               "WORKSPACE_SCRUB_PERIOD": "2"}).start()
    try:
        oid = _two_versions(daemon, project)
        _flip_a_byte(object_path(daemon, oid))
        event = _wait_for_scrub_finding(daemon, project, oid)
        assert len(event["detail"]["fanouts"]) == 128  # 256 * 1 s / 2 s per run
        refused = daemon.ws("ls", "vision/cats", cwd=project, check=False)
        assert refused.returncode == 7 and "damaged" in refused.stderr
        verified = _fsck_json(daemon, project)["last_verified"]
        assert verified["newest"] is not None
    finally:
        daemon.stop()


def _wait_for_scrub_finding(daemon: Daemon, project: Path, oid: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = daemon.ws_json("audit", "--action", "store:scrub:run", cwd=project)["events"]
        for event in events:
            if oid in event["detail"]["corrupt"]:
                return dict(event)
        time.sleep(0.5)
    raise AssertionError("the scrub never reported the corrupt object")


def _fsck_json(daemon: Daemon, project: Path) -> dict[str, object]:
    for _ in range(50):  # the scrub runs every second: fsck may find it busy (exit 5)
        proc = daemon.ws("fsck", "--json", cwd=project, check=False)
        if proc.returncode != 5:
            return dict(json.loads(proc.stdout))
        time.sleep(0.2)
    raise AssertionError("fsck never got its turn")

"""`ws gc` and `ws prune` against a real daemon: what goes, what must stay."""

from __future__ import annotations

import json
import os
from pathlib import Path

import blake3

from tests.gc.helpers import every_kept_object_is_intact, object_path, three_versions, write
from tests.support.blame import blamed as blame_rows
from tests.support.daemon import Daemon, give


def test_gc_frees_pruned_versions_but_never_a_file_a_workspace_links(
        daemon: Daemon, project: Path) -> None:
    oids = three_versions(daemon, project)
    daemon.ws("get", "vision/cats@1", "old", cwd=project)  # holds v1's big.bin (a link)
    refused = daemon.ws_json("prune", "vision/cats", "--keep-last", "1", cwd=project)
    assert [p["version"] for p in refused["pruned"]] == [2]
    assert refused["kept"] == [{"version": 1, "workspaces": [f"{project}/old"]}]

    forced = daemon.ws_json("prune", "vision/cats", "--keep-last", "1", "--force", cwd=project)
    assert [p["version"] for p in forced["pruned"]] == [1]
    result = daemon.ws_json("gc", "--grace", "0", cwd=project)

    assert result["removed"] == 1 and result["linked"] >= 1
    assert not object_path(daemon, oids[1]).exists()        # v2's: nothing holds it
    assert object_path(daemon, oids[0]).exists()            # v1's: old/ still links it
    assert (project / "old" / "big.bin").read_bytes()[-1] == 1
    assert every_kept_object_is_intact(daemon) == 2


def test_pruned_versions_leave_ls_and_get_but_stay_in_log_and_blame(
        daemon: Daemon, project: Path) -> None:
    three_versions(daemon, project)
    daemon.ws("prune", "vision/cats", "--keep-last", "1", cwd=project)

    for args in (("ls", "vision/cats@1"), ("get", "vision/cats@2", "again")):
        proc = daemon.ws(*args, cwd=project, check=False)
        assert proc.returncode == 3, proc.stderr
        assert f"was pruned by {daemon.owner.name}" in proc.stderr
    versions = daemon.ws_json("log", "vision/cats", cwd=project)["versions"]
    assert [(v["number"], bool(v["pruned"])) for v in versions] == [
        (3, False), (2, True), (1, True)]
    assert versions[1]["pruned"]["by"] == daemon.owner.name
    assert versions[1]["pruned"]["how"] == "prune"
    blamed = blame_rows(daemon.ws_json("blame", "vision/cats", cwd=project))
    assert blamed["same.txt"]["version"] == 1 and blamed["same.txt"]["pruned"] is True
    assert blamed["big.bin"]["version"] == 3 and blamed["big.bin"]["pruned"] is False
    assert "pruned" in daemon.ws("log", "vision/cats", cwd=project).stdout
    events = daemon.ws_json("audit", "--action", "dataset:version:prune", cwd=project)["events"]
    assert sorted(e["version"] for e in events) == [1, 2]


def test_gc_removes_leftovers_of_failed_operations_and_a_dry_run_removes_nothing(
        daemon: Daemon, project: Path) -> None:
    three_versions(daemon, project)
    orphan = os.urandom(5000)
    oid = blake3.blake3(orphan).hexdigest()
    path = object_path(daemon, oid)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(orphan)
    path.chmod(0o444)
    stale = daemon.store / "tmp" / "c.leftover"
    stale.write_bytes(b"half a copy")
    give(daemon.store, daemon.owner)

    dry = daemon.ws_json("gc", "--grace", "0", "--dry-run", cwd=project)
    assert dry["removed"] == 1 and path.exists() and stale.exists()
    assert daemon.ws_json("audit", "--action", "store:gc:run", cwd=project)["events"] == []

    done = daemon.ws_json("gc", "--grace", "0", cwd=project)
    assert done["removed"] == 1 and done["tmp_removed"] == 1
    assert not path.exists() and not stale.exists()
    (event,) = daemon.ws_json("audit", "--action", "store:gc:run", cwd=project)["events"]
    assert event["detail"]["removed"] == 1
    assert every_kept_object_is_intact(daemon) == 4


def test_the_grace_period_keeps_new_objects(sqlite_daemon: Daemon, project: Path) -> None:
    daemon = sqlite_daemon
    oids = three_versions(daemon, project)
    daemon.ws("prune", "vision/cats", "--keep-last", "1", cwd=project)
    kept = daemon.ws_json("gc", cwd=project)  # default grace: 24 h
    assert kept["removed"] == 0 and kept["young"] == 2
    assert object_path(daemon, oids[0]).exists()
    assert daemon.ws_json("gc", "--grace", "0", cwd=project)["removed"] == 2


def test_retention_rules_in_settings_are_applied_by_gc(
        runtime: object, alice: object, project: Path) -> None:
    from tests.support.runtime import Identity, Runtime

    assert isinstance(runtime, Runtime) and isinstance(alice, Identity)
    home = runtime.make_dir(alice, "home")
    rules = json.dumps([{"pattern": "scratch/*", "keep_last": 1}])
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_RETENTION": rules}).start()
    try:
        three_versions(daemon, project, dataset="scratch/tmp")
        write(project / "keep" / "x", b"x")
        give(project, daemon.owner)
        daemon.ws("add", "keep", "-d", "vision/keep", "-m", "1", cwd=project)
        daemon.ws("commit", "keep", "-m", "2", cwd=project)  # unchanged: no new version
        result = daemon.ws_json("gc", "--grace", "0", cwd=project)
        (rule,) = result["retention"]
        assert rule["dataset"] == "scratch/tmp" and rule["pruned"] == [1, 2]
        assert result["removed"] == 2
        versions = daemon.ws_json("log", "scratch/tmp", cwd=project)["versions"]
        assert [v["pruned"]["how"] if v["pruned"] else None for v in versions] == [
            None, "retention", "retention"]
    finally:
        daemon.stop()

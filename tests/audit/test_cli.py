"""`ws audit`, `ws audit verify` and `ws audit reset-checkpoints` against a real daemon."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.tamper import Attacker
from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.db import Database
from workspace.db.queries import audit as queries


def _make_history(daemon: Daemon, project: Path) -> None:
    (project / "data").mkdir()
    (project / "data" / "labels.csv").write_text("a,1\n")
    give(project, daemon.owner)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)


def _tamper(daemon: Daemon, how: str, *args: object) -> None:
    attacker = Attacker(daemon.database_url)
    try:
        getattr(attacker.disarm(), how)(*args)
    finally:
        attacker.close()


def test_filters_then_verify_passes_then_names_an_edited_event(daemon: Daemon,
                                                               project: Path) -> None:
    _make_history(daemon, project)
    me = daemon.owner.name
    mine = daemon.ws_json("audit", "--user", me, "--since", "1d", cwd=project)["events"]
    assert len(mine) >= 3 and {e["actor"] for e in mine} == {me}
    assert [e["id"] for e in mine] == sorted((e["id"] for e in mine), reverse=True)
    commits = daemon.ws_json("audit", "--action", "dataset:version:commit", "--path", "dat",
                             "--dataset", "vision/cats", cwd=project)["events"]
    assert [(e["dataset"], e["path"]) for e in commits] == [("vision/cats", "data")]
    assert daemon.ws_json("audit", "--until", "1d", cwd=project)["events"] == []
    bad_time = daemon.ws("audit", "--until", "yesterday-ish", cwd=project, check=False)
    assert bad_time.returncode == 2 and "--until 'yesterday-ish'" in bad_time.stderr
    assert daemon.ws("audit", "verify", cwd=project).stdout.startswith("audit log OK: ")

    _tamper(daemon, "edit", commits[0]["id"], "mallory")
    bad = daemon.ws("audit", "verify", cwd=project, check=False)
    assert bad.returncode == 8, bad.stderr
    assert f"tampered with at event {commits[0]['id']} (edited)" in bad.stderr
    assert "hint: " in bad.stderr
    error = json.loads(daemon.ws("audit", "verify", "--json", cwd=project, check=False).stderr)
    assert error["error"]["code"] == "audit_tampered"
    assert error["error"]["details"]["problem"]["event_id"] == commits[0]["id"]


def test_a_cut_tail_is_caught_by_the_checkpoint_written_at_shutdown(
        sqlite_daemon: Daemon, project: Path) -> None:
    daemon = sqlite_daemon
    _make_history(daemon, project)
    head = daemon.ws_json("audit", "verify", cwd=project)["head"]["id"]
    daemon.stop()
    audit_dir = daemon.home / "audit"
    assert stat.S_IMODE(audit_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(checkpoint_file(audit_dir).stat().st_mode) == 0o600
    assert checkpoint_file(audit_dir).stat().st_uid == daemon.owner.uid
    assert load_checkpoints(checkpoint_file(audit_dir)).checkpoints[-1].sequence == head
    daemon.start()

    _tamper(daemon, "delete_from", head - 1)
    bad = daemon.ws("audit", "verify", cwd=project, check=False)
    assert bad.returncode == 8, bad.stderr
    assert f"at event {head} (tail_cut)" in bad.stderr
    assert f"the chain ends at event {head - 2}" in bad.stderr


@pytest.fixture
def timerless(runtime: Runtime, alice: Identity, database_url: str) -> Iterator[Daemon]:
    """A daemon (both databases) whose timed checkpoint never fires in a test: only the
    immediate checkpoint of security-relevant events (and shutdown) can write one."""
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, database_url,
                     extra_env={"WORKSPACE_AUDIT_CHECKPOINT_INTERVAL": "3600"}).start()
    yield running
    running.stop()


def _head(daemon: Daemon) -> int:
    db = Database(daemon.database_url)
    try:
        with db.read() as session:
            found = queries.head(session)
    finally:
        db.dispose()
    assert found is not None
    return found[0]


def _grants(daemon: Daemon, cwd: Path, count: int) -> int:
    for n in range(count):
        daemon.ws("role", "grant", f"mallory{n}", "reader", "vision/*", cwd=cwd)
    return _head(daemon)


def test_role_grants_cut_off_after_a_crash_are_caught(timerless: Daemon,
                                                     project: Path) -> None:
    daemon = timerless
    head = _grants(daemon, project, 5)
    daemon.kill()  # kill -9: no checkpoint at shutdown
    _tamper(daemon, "delete_from", head - 4)  # the five grants are gone
    daemon.start()
    bad = daemon.ws("audit", "verify", cwd=project, check=False)
    assert bad.returncode == 8, bad.stdout + bad.stderr
    assert f"at event {head - 4} (tail_cut)" in bad.stderr
    assert f"the chain ends at event {head - 5}" in bad.stderr


def test_a_deleted_checkpoint_file_and_a_recomputed_chain_fail_until_an_admin_resets(
        timerless: Daemon, project: Path, runtime: Runtime) -> None:
    daemon = timerless
    head = _grants(daemon, project, 2)
    assert daemon.ws("audit", "verify", cwd=project).returncode == 0
    checkpoints = checkpoint_file(daemon.home / "audit")
    checkpoints.unlink()
    attacker = Attacker(daemon.database_url).disarm()
    try:
        attacker.edit(head - 1, "someone-else")  # who granted that role, say
        attacker.rehash([head - 1, head], relink=True)  # the chain links up again
    finally:
        attacker.close()

    daemon.ws("role", "grant", "mallory9", "reader", "vision/*", cwd=project)
    daemon.stop()
    daemon.start()  # neither a new event nor a restart brings a file back
    assert not checkpoints.exists()
    bad = daemon.ws("audit", "verify", cwd=project, check=False)
    assert bad.returncode == 8, bad.stdout + bad.stderr
    assert "(no_checkpoint)" in bad.stderr and "is missing" in bad.stderr
    assert "ws audit reset-checkpoints" in bad.stderr

    bob = runtime.user("bob")
    daemon.ws("user", "add", bob.name, cwd=project)
    refused = daemon.ws("audit", "reset-checkpoints", "--reason", "x", cwd=project,
                        user=bob, check=False)
    assert refused.returncode == 4, refused.stderr

    reason = "the audit dir was restored from an old snapshot"
    done = daemon.ws_json("audit", "reset-checkpoints", "--reason", reason, cwd=project)
    assert done["previous"] == "missing" and done["set_aside"] is None
    assert daemon.ws("audit", "verify", cwd=project).stdout.startswith("audit log OK: ")
    resets = daemon.ws_json("audit", "--action", "audit:checkpoint:reset", cwd=project)
    assert [(e["actor"], e["detail"]["reason"]) for e in resets["events"]] == [
        (daemon.owner.name, reason)]
    assert resets["events"][0]["id"] == done["checkpoint"]["sequence"]

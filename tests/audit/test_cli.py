"""`ws audit` and `ws audit verify` against a real daemon."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.audit.tamper import Attacker
from tests.support.daemon import Daemon, give
from workspace.audit.checkpoint import checkpoint_file, read_checkpoints


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
    assert read_checkpoints(checkpoint_file(audit_dir))[0][-1].sequence == head
    daemon.start()

    _tamper(daemon, "delete_from", head - 1)
    bad = daemon.ws("audit", "verify", cwd=project, check=False)
    assert bad.returncode == 8, bad.stderr
    assert f"at event {head} (tail_cut)" in bad.stderr
    assert f"the chain ends at event {head - 2}" in bad.stderr

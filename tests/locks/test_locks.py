"""Locks against the real daemon, with real Unix users: enforced at commit, broken by an
admin (the holder is told once), and taken by `ws unlock` when the daemon says so.

One team per database: alice is the admin; bob and wendy write ``vision/*``;
carol only reads it. Each has ``vision/cats`` checked out at ``data``.
"""

from __future__ import annotations

import os

import pytest

from tests.support.runtime import Runtime
from tests.support.team import Team, Teams, edit, team

DENIED, CONFLICT = 4, 5
ROLES: dict[str, str | None] = {"bob": "writer", "wendy": "writer", "carol": "reader"}
if os.geteuid() != 0:
    pytest.skip("needs root to create separate Unix users", allow_module_level=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def crew(request: pytest.FixtureRequest, runtime: Runtime, teams: Teams) -> Team:
    return teams.get(f"locks-{request.param}", lambda: team(runtime, request.param, ROLES))


def _fresh(crew: Team, *who: str) -> None:
    """Each of ``who`` holds the latest version at ``data`` (checked out anew)."""
    for name in who:
        if (crew.dirs[name] / "data").exists():
            crew.ws(name, "checkout", "data", "--ref", "vision/cats", "--force")
        else:
            crew.ws(name, "get", "vision/cats", "data")


def test_a_commit_that_changes_a_file_someone_else_locked_is_refused(crew: Team) -> None:
    _fresh(crew, "bob", "wendy")
    assert "locked 1 file" in crew.ws("bob", "lock", "data/labels.csv").stdout
    latest = _latest(crew)
    edit(crew, "wendy", "data/labels.csv", b"wendy was here\n")
    refused = crew.ws("wendy", "commit", "data", "-m", "mine", check=False)
    assert refused.returncode == CONFLICT
    assert f"locked by {crew.people['bob'].name} since" in refused.stderr
    assert "nothing was committed" in refused.stderr
    assert _latest(crew) == latest
    mine = crew.dirs["wendy"] / "data" / "labels.csv"
    assert mine.read_bytes() == b"wendy was here\n" and mine.stat().st_nlink == 1
    listed = crew.ws_json("carol", "locks", "vision/cats")["locks"]
    assert [(lock["path"], lock["holder"]) for lock in listed] == [
        ("labels.csv", crew.people["bob"].name)]
    crew.ws("bob", "lock", "--release", "data/labels.csv")
    crew.ws("wendy", "commit", "data", "-m", "mine, now that bob is done")
    assert _latest(crew) == latest + 1


def test_the_holder_commits_and_files_nobody_locked_stay_free(crew: Team) -> None:
    _fresh(crew, "bob", "wendy")
    crew.ws("bob", "lock", "data/labels.csv")
    edit(crew, "bob", "data/labels.csv", b"bob's labels\n")
    crew.ws("bob", "commit", "data", "-m", "bob holds the lock")
    _fresh(crew, "wendy")
    edit(crew, "wendy", "data/model.bin", b"wendy's weights")
    crew.ws("wendy", "commit", "data", "-m", "not locked by anyone")
    crew.ws("bob", "lock", "--release", "data/labels.csv")


def test_taking_locks_is_all_or_nothing_and_a_reader_takes_none(crew: Team) -> None:
    _fresh(crew, "bob", "wendy", "carol")
    crew.ws("bob", "lock", "data/model.bin")
    both = crew.ws("wendy", "lock", "data/labels.csv", "data/model.bin", check=False)
    assert both.returncode == CONFLICT and "model.bin" in both.stderr
    assert crew.ws("carol", "lock", "data/labels.csv", check=False).returncode == DENIED
    held = [lock["path"] for lock in crew.ws_json("alice", "locks")["locks"]]
    assert held == ["model.bin"]
    crew.ws("bob", "lock", "--release", "-d", "vision/cats", "model.bin")


def test_an_admin_breaks_a_lock_and_the_holder_is_told_once(crew: Team) -> None:
    _fresh(crew, "bob", "wendy")
    crew.ws("bob", "lock", "data/model.bin")
    theirs = crew.ws("wendy", "lock", "--release", "-d", "vision/cats", "model.bin", check=False)
    assert theirs.returncode == CONFLICT and "--force" in theirs.stderr
    forced = crew.ws("wendy", "lock", "--release", "--force", "-d", "vision/cats", "model.bin",
                     check=False)
    assert forced.returncode == DENIED
    broke = crew.ws("alice", "lock", "--release", "--force", "-d", "vision/cats", "model.bin")
    assert f"broke {crew.people['bob'].name}'s lock on model.bin" in broke.stdout
    told = crew.ws("bob", "locks").stderr
    assert f"notice: {crew.people['alice'].name} broke your lock on model.bin" in told
    assert "notice" not in crew.ws("bob", "locks").stderr
    events = crew.ws_json("alice", "audit", "--action", "dataset:lock:break")["events"]
    assert events[0]["detail"] == {"paths": ["model.bin"], "holders": [crew.people["bob"].name]}


@pytest.fixture
def careful(runtime: Runtime, teams: Teams) -> Team:
    return teams.get("locks-on-unlock", lambda: team(
        runtime, "sqlite", ROLES, env={"WORKSPACE_LOCK_ON_UNLOCK": "true"}))


def test_unlock_takes_the_lock_first_when_the_daemon_says_so(careful: Team) -> None:
    _fresh(careful, "bob", "wendy", "carol")
    took = careful.ws("bob", "unlock", "data/labels.csv")
    assert "locked 1 file" in took.stdout and "unlocked 1 file" in took.stdout
    refused = careful.ws("wendy", "unlock", "data/labels.csv", check=False)
    assert refused.returncode == CONFLICT and careful.people["bob"].name in refused.stderr
    assert (careful.dirs["wendy"] / "data" / "labels.csv").stat().st_nlink > 1  # still linked
    reader = careful.ws("carol", "unlock", "data/model.bin")
    assert "not locked" in reader.stderr and "unlocked 1 file" in reader.stdout
    assert [lock["path"] for lock in careful.ws_json("alice", "locks")["locks"]] == [
        "labels.csv"]


def _latest(crew: Team) -> int:
    number: int = crew.ws_json("alice", "log", "vision/cats")["versions"][0]["number"]
    return number

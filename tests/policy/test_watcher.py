"""Editing the policy files on disk: valid edits apply, broken ones are rejected, with owners."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.policy.conftest import ADMIN, wait_until
from workspace.db import Database
from workspace.policy import Authorizer
from workspace.watch.policy_files import PolicyFileEvent, PolicyFileWatcher

EDITOR_UID = 4242


class Recorder:
    def __init__(self) -> None:
        self.applied: list[PolicyFileEvent] = []
        self.rejected: list[PolicyFileEvent] = []
        self.in_transaction: list[bool] = []

    def on_change(self, session: Session, event: PolicyFileEvent) -> None:
        self.in_transaction.append(session.in_transaction())
        self.applied.append(event)

    def on_reject(self, event: PolicyFileEvent) -> None:
        self.rejected.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def watcher(auth: Authorizer, policy_dir: Path, recorder: Recorder) -> Iterator[PolicyFileWatcher]:
    running = PolicyFileWatcher(
        policy_dir, auth, recorder.on_change, on_reject=recorder.on_reject, settle=0.05
    )
    running.start()
    yield running
    running.stop()


def edit(path: Path, text: str, *, uid: int = EDITOR_UID) -> None:
    """Write as an editor that saves to a temp file and renames it over the original."""
    temp = path.with_name(f".{path.name}.swp")
    temp.write_text(text)
    os.chown(temp, uid, -1)
    os.replace(temp, path)


def test_a_valid_edit_is_applied_and_reports_the_files_owner(
    watcher: PolicyFileWatcher, auth: Authorizer, policy_dir: Path, recorder: Recorder
) -> None:
    assert not auth.check("intern", ["group:interns"], "vision/cats", "read").allowed
    csv = policy_dir / "policy.csv"
    edit(csv, csv.read_text() + "g, group:interns, reader, vision/*\n")
    wait_until(lambda: auth.check("intern", ["group:interns"], "vision/cats", "read").allowed)
    assert [(e.path, e.owner_uid, e.accepted) for e in recorder.applied] == [
        (csv, EDITOR_UID, True)
    ]
    assert recorder.in_transaction == [True]
    assert recorder.rejected == []


def test_a_file_written_in_place_is_applied(
    watcher: PolicyFileWatcher, auth: Authorizer, policy_dir: Path
) -> None:
    with (policy_dir / "policy.csv").open("a") as handle:
        handle.write(f"p, {ADMIN}, secret/*, *, deny\n")
    wait_until(lambda: not auth.check(ADMIN, [], "secret/x", "read").allowed)


def test_a_broken_model_is_rejected_and_the_old_policy_stays(
    watcher: PolicyFileWatcher,
    auth: Authorizer,
    db: Database,
    policy_dir: Path,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = policy_dir / "model.conf"
    good = model.read_text()
    version = auth.version
    edit(model, good.replace("[matchers]", "[matchers"))
    wait_until(lambda: bool(recorder.rejected))
    rejected = recorder.rejected[0]
    assert (rejected.path, rejected.owner_uid, rejected.accepted) == (model, EDITOR_UID, False)
    assert "model.conf" in rejected.message
    assert any("rejected, the old policy stays" in r.getMessage() for r in caplog.records)
    assert auth.version == version
    assert auth.check(ADMIN, [], "admin:policy", "admin").allowed
    edit(model, good + "\n# fixed\n", uid=EDITOR_UID + 1)
    wait_until(lambda: bool(recorder.applied))
    assert (recorder.applied[0].path, recorder.applied[0].owner_uid) == (model, EDITOR_UID + 1)


def test_a_broken_policy_line_is_rejected(
    watcher: PolicyFileWatcher, auth: Authorizer, policy_dir: Path, recorder: Recorder
) -> None:
    csv = policy_dir / "policy.csv"
    rules = [str(r) for r in auth.list_rules()]
    edit(csv, csv.read_text() + 'g, alice, admin, "*"\n')
    wait_until(lambda: bool(recorder.rejected))
    assert "policy.csv line" in recorder.rejected[0].message
    assert [str(r) for r in auth.list_rules()] == rules
    assert not auth.check("alice", [], "vision/cats", "admin").allowed


def test_start_applies_edits_made_while_nobody_watched(
    auth: Authorizer, policy_dir: Path, recorder: Recorder
) -> None:
    csv = policy_dir / "policy.csv"
    csv.write_text(csv.read_text() + "g, group:ops, maintainer, *\n")
    later = time.time() + 60  # newer than when the defaults were stored
    os.utime(csv, (later, later))
    stale = PolicyFileWatcher(policy_dir, auth, recorder.on_change)
    stale.start()
    stale.stop()
    assert auth.check("eve", ["group:ops"], "vision/cats", "maintain").allowed
    assert [e.path.name for e in recorder.applied] == ["policy.csv"]


def test_start_does_not_apply_files_older_than_the_stored_policy(
    auth: Authorizer, policy_dir: Path, recorder: Recorder
) -> None:
    csv = policy_dir / "policy.csv"
    csv.write_text(csv.read_text() + "g, group:ops, maintainer, *\n")
    earlier = time.time() - 3600  # another server stored a newer policy since
    os.utime(csv, (earlier, earlier))
    stale = PolicyFileWatcher(policy_dir, auth, recorder.on_change)
    stale.start()
    stale.stop()
    assert not auth.check("eve", ["group:ops"], "vision/cats", "maintain").allowed
    assert recorder.applied == []


def test_an_edit_without_an_event_is_found_by_the_rescan(
    auth: Authorizer, policy_dir: Path, recorder: Recorder
) -> None:
    """Events can be lost (inotify queue overflow); the stat signature is compared anyway."""
    blind = PolicyFileWatcher(policy_dir, auth, recorder.on_change, settle=0.01, rescan=0.05)
    blind.start()
    try:
        assert blind._observer is not None
        blind._observer.unschedule_all()  # from here on, no event arrives
        csv = policy_dir / "policy.csv"
        edit(csv, csv.read_text() + "g, group:ops, reader, *\n")
        wait_until(lambda: auth.check("eve", ["group:ops"], "x/y", "read").allowed)
    finally:
        blind.stop()

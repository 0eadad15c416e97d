"""A chain with events needs a checkpoint file that vouches for it; only an admin's
audited reset starts a new one."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.audit.conftest import NO_TIMER, record_events
from workspace.audit import Action
from workspace.audit.checkpoint import checkpointing
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.audit.reset import reset_checkpoints
from workspace.audit.verify import Reason, Report, ensure_intact, verify_log
from workspace.db import Database
from workspace.db.models import AuditEvent
from workspace.errors import AuditTampered, InvalidInput


def _verify(db: Database, log_dir: Path) -> Report:
    return verify_log(db, load_checkpoints(checkpoint_file(log_dir)), batch=3)


def _checkpointed(db: Database, log_dir: Path, events: int) -> None:
    with checkpointing(db, log_dir, every=1000, interval=NO_TIMER):
        record_events(db, events)


def test_an_empty_chain_needs_no_checkpoint(db: Database, log_dir: Path) -> None:
    assert _verify(db, log_dir).problem is None


@pytest.mark.parametrize("loss", ["deleted", "emptied", "unreadable"])
def test_events_without_a_checkpoint_file_fail_verification(db: Database, log_dir: Path,
                                                            loss: str) -> None:
    _checkpointed(db, log_dir, 4)
    assert _verify(db, log_dir).problem is None
    path = checkpoint_file(log_dir)
    path.unlink()
    if loss == "emptied":
        path.write_text("")
    elif loss == "unreadable":
        path.mkdir()  # unreadable as a file, even for root
    problem = _verify(db, log_dir).problem
    assert problem is not None and (problem.event_id, problem.reason) == (4, Reason.NO_CHECKPOINT)
    why = {"deleted": "is missing", "emptied": "holds no checkpoint",
           "unreadable": "is unreadable ("}[loss]
    assert why in problem.message and "4 events" in problem.message
    with pytest.raises(AuditTampered) as caught:
        ensure_intact(_verify(db, log_dir))
    assert "ws audit reset-checkpoints --reason" in (caught.value.hint or "")


def test_a_reset_starts_a_new_file_at_the_head_and_says_why_in_the_log(
        db: Database, log_dir: Path) -> None:
    _checkpointed(db, log_dir, 3)
    checkpoint_file(log_dir).unlink()
    done = reset_checkpoints(db, log_dir, actor="root", reason="restored last night's backup")
    assert (done.previous, done.set_aside, done.checkpoint.sequence) == ("missing", None, 4)
    assert _verify(db, log_dir).problem is None
    assert stat.S_IMODE(checkpoint_file(log_dir).stat().st_mode) == 0o600
    with db.read() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None and (last.id, last.actor, last.action) == (
        4, "root", str(Action.AUDIT_CHECKPOINT_RESET))
    assert json.loads(last.detail) == {"reason": "restored last night's backup",
                                       "previous_file": "missing", "set_aside_as": None}


def test_a_reset_keeps_the_old_file_beside_the_new_one(db: Database, log_dir: Path) -> None:
    _checkpointed(db, log_dir, 2)
    old = checkpoint_file(log_dir).read_text()
    done = reset_checkpoints(db, log_dir, actor="root", reason="moved audit_log_dir")
    assert done.previous == "1 checkpoints, the last for event 2"
    assert done.set_aside is not None and done.set_aside.read_text() == old
    assert done.set_aside.parent == log_dir and done.set_aside.name.endswith(".set-aside")
    assert [cp.sequence for cp in load_checkpoints(checkpoint_file(log_dir)).checkpoints] == [3]


def test_a_reset_needs_a_reason_and_changes_nothing_when_it_cannot_be_recorded(
        db: Database, log_dir: Path, tmp_path: Path) -> None:
    _checkpointed(db, log_dir, 2)
    before = checkpoint_file(log_dir).read_text()
    for reason in ("", "   ", "two\nlines", "x" * 501):
        with pytest.raises(InvalidInput, match="needs a reason"):
            reset_checkpoints(db, log_dir, actor="root", reason=reason)
    broken = Database(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")
    with pytest.raises(Exception):  # noqa: B017 (the database's own error)
        reset_checkpoints(broken, log_dir, actor="root", reason="a good reason")
    broken.dispose()
    assert checkpoint_file(log_dir).read_text() == before
    assert sorted(p.name for p in log_dir.iterdir()) == ["checkpoints.log"]

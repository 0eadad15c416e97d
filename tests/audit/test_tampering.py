"""Each way of tampering with the stored trail makes verify name the first bad event.

The log is 10 events recorded through a checkpointer that writes every 4
events (after events 4 and 8) and at shutdown (event 10), as the daemon does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.audit.conftest import NO_TIMER, record_events
from tests.audit.tamper import Attacker
from workspace.audit.checkpoint import checkpointing
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.audit.verify import Reason, Report, verify
from workspace.db import Database


@pytest.fixture
def ten(db: Database, log_dir: Path) -> Database:
    with checkpointing(db, log_dir, every=4, interval=NO_TIMER):
        record_events(db, 10)
    return db


def _verify(db: Database, log_dir: Path | None) -> Report:
    checkpoints = load_checkpoints(checkpoint_file(log_dir)).checkpoints if log_dir else []
    return verify(db, checkpoints, batch=3)  # small batches: breaks across batch edges too


def _first_bad(db: Database, log_dir: Path | None) -> tuple[int, Reason]:
    problem = _verify(db, log_dir).problem
    assert problem is not None, "verify passed a tampered log"
    return problem.event_id, problem.reason


def test_an_intact_log_verifies_with_its_counts_and_checkpoints(ten: Database,
                                                                log_dir: Path) -> None:
    report = _verify(ten, log_dir)
    assert report.problem is None
    assert (report.events, report.head_id) == (10, 10)
    written = load_checkpoints(checkpoint_file(log_dir)).checkpoints
    assert [cp.sequence for cp in written] == [4, 8, 10]
    assert report.checked_checkpoints == 3
    assert report.last_checkpoint is not None and report.last_checkpoint.sequence == 10
    assert report.to_dict()["ok"] is True


@pytest.mark.parametrize("field, value", [("actor", "mallory"), ("version", 99)])
def test_editing_a_field(ten: Database, attacker: Attacker, log_dir: Path, field: str,
                         value: object) -> None:
    attacker.disarm().run(f"UPDATE audit_events SET {field} = :value WHERE id = 5", value=value)
    assert _first_bad(ten, log_dir) == (5, Reason.EDITED)


def test_editing_the_time(ten: Database, attacker: Attacker, log_dir: Path) -> None:
    attacker.disarm().run(
        "UPDATE audit_events SET at = (SELECT at FROM audit_events WHERE id = 2) WHERE id = 6")
    assert _first_bad(ten, log_dir) == (6, Reason.EDITED)


def test_deleting_a_middle_event(ten: Database, attacker: Attacker, log_dir: Path) -> None:
    attacker.disarm().run("DELETE FROM audit_events WHERE id = 5")
    assert _first_bad(ten, log_dir) == (6, Reason.DELETED_BEFORE)


def test_deleting_the_first_event(ten: Database, attacker: Attacker) -> None:
    attacker.disarm().run("DELETE FROM audit_events WHERE id = 1")
    assert _first_bad(ten, None) == (2, Reason.DELETED_BEFORE)


@pytest.mark.parametrize("a, b", [(3, 7), (1, 10)])
def test_reordering_two_events(ten: Database, attacker: Attacker, log_dir: Path, a: int,
                               b: int) -> None:
    attacker.disarm().swap(a, b)
    assert _first_bad(ten, log_dir) == (a, Reason.REORDERED)


def test_inserting_a_forged_event(ten: Database, attacker: Attacker) -> None:
    forged = attacker.disarm().insert_after(5, actor="mallory")
    assert forged == 6
    assert _first_bad(ten, None) == (6, Reason.INSERTED)


def test_appending_an_event_with_a_made_up_hash(ten: Database, attacker: Attacker) -> None:
    attacker.disarm().run(
        "INSERT INTO audit_events (at, actor, action, detail, prev_hash, hash) "
        "SELECT at, 'mallory', action, detail, hash, :forged FROM audit_events WHERE id = 10",
        forged="b" * 64)
    assert _first_bad(ten, None) == (11, Reason.EDITED)


def test_cutting_the_tail_is_caught_by_a_checkpoint(ten: Database, attacker: Attacker,
                                                    log_dir: Path) -> None:
    attacker.disarm().delete_from(7)
    assert _verify(ten, None).problem is None  # the chain alone cannot see it
    assert _first_bad(ten, log_dir) == (8, Reason.TAIL_CUT)
    assert "ends at event 6" in str(_verify(ten, log_dir).problem)


def test_emptying_the_log_is_caught_by_a_checkpoint(ten: Database, attacker: Attacker,
                                                    log_dir: Path) -> None:
    attacker.disarm().delete_from(1)
    assert _first_bad(ten, log_dir) == (4, Reason.TAIL_CUT)


def test_recomputing_the_chain_after_an_edit_is_caught_by_a_checkpoint(
        ten: Database, attacker: Attacker, log_dir: Path) -> None:
    attacker.disarm().edit(6, actor="mallory")
    attacker.rehash(list(range(6, 11)), relink=True)
    assert _verify(ten, None).problem is None  # the chain links up again
    assert _first_bad(ten, log_dir) == (8, Reason.RECOMPUTED)


def test_deleting_and_recomputing_is_caught_when_a_checkpointed_event_is_gone(
        ten: Database, attacker: Attacker, log_dir: Path) -> None:
    attacker.disarm().run("DELETE FROM audit_events WHERE id = 4")
    attacker.rehash(list(range(5, 11)), relink=True)
    assert _verify(ten, None).problem is None
    assert _first_bad(ten, log_dir) == (4, Reason.RECOMPUTED)


def test_the_first_of_several_problems_is_named(ten: Database, attacker: Attacker,
                                                log_dir: Path) -> None:
    attacker.disarm().edit(9, actor="mallory")
    attacker.run("DELETE FROM audit_events WHERE id = 3")
    assert _first_bad(ten, log_dir) == (4, Reason.DELETED_BEFORE)

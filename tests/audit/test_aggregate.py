"""A flood of identical events becomes a first event and a count, never N rows or none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from workspace.audit import Action
from workspace.audit.aggregate import Tally
from workspace.db import Database
from workspace.db.models import AuditEvent

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def _events(db: Database) -> list[tuple[str, dict[str, object]]]:
    with db.read() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(row.actor, json.loads(row.detail)) for row in rows]


def _note(tally: Tally, db: Database, who: str, at: datetime) -> bool:
    return tally.note(db, (who, "unknown_user"), actor=who, action=Action.ACCESS_USER_REFUSE,
                      detail={"uid": 7}, message=f"refused {who}", now=at)


def test_a_burst_is_one_event_at_once_and_one_count_when_the_window_ends(db: Database) -> None:
    tally = Tally(timedelta(seconds=60))
    written = [_note(tally, db, "mallory", T0 + n * SECOND / 10) for n in range(100)]
    assert written == [True] + [False] * 99
    assert [d["count"] for _, d in _events(db)] == [1]
    assert tally.flush(db, now=T0 + 59 * SECOND) == 0  # the window is still open
    assert tally.flush(db, now=T0 + 60 * SECOND) == 1
    events = _events(db)
    assert [(who, d["count"], d.get("repeated")) for who, d in events] == [
        ("mallory", 1, None), ("mallory", 99, True)]
    assert events[1][1]["first_at"] == "2026-11-30T12:00:00+00:00"
    assert events[1][1]["last_at"] == "2026-11-30T12:00:09+00:00"
    assert tally.flush(db, now=T0 + 3600 * SECOND, everything=True) == 0  # nothing twice


def test_windows_are_per_key_and_a_late_event_closes_the_last_window(db: Database) -> None:
    tally = Tally(timedelta(seconds=60))
    for who in ("mallory", "eve", "mallory", "eve", "eve"):
        _note(tally, db, who, T0)
    assert _note(tally, db, "mallory", T0 + 61 * SECOND)  # a new window: count of the old one
    assert [(who, d["count"]) for who, d in _events(db)] == [
        ("mallory", 1), ("eve", 1), ("mallory", 1), ("mallory", 1)]
    assert tally.flush(db, now=T0 + 62 * SECOND, everything=True) == 1  # eve's two
    assert [(who, d["count"]) for who, d in _events(db)][-1] == ("eve", 2)
    assert sum(int(d["count"]) for who, d in _events(db) if who == "eve") == 3

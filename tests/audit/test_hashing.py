"""The hash covers exactly the canonical JSON, however the fields and times look."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.audit.tamper import Attacker
from workspace.audit import Action, record
from workspace.audit.record import canonical_text, iso
from workspace.audit.verify import Reason, verify
from workspace.db import Database

ODD_TEXT = ["plain", "zoë", "quote\" backslash\\ slash/", "tab\tnewline\n\x00\x1f", "🐈 cat",
            "\u2028\u2029", ""]


@pytest.mark.parametrize("value", ODD_TEXT)
def test_canonical_text_is_exactly_sorted_compact_json(value: str) -> None:
    for version in (None, 0, 7, 2**62):
        fields = ("dataset:tag:create", value, "2026-11-21T19:20:15.000001+00:00", value,
                  json.dumps({"k": value}), None, version, value)
        keys = ("action", "actor", "at", "dataset", "detail", "path", "version", "workspace")
        expected = json.dumps(dict(zip(keys, fields, strict=True)), sort_keys=True,
                              separators=(",", ":"))
        assert canonical_text(fields) == expected


def test_a_field_of_the_wrong_type_cannot_be_hashed() -> None:
    with pytest.raises(TypeError):
        canonical_text(("a", "b", "c", None, "{}", None, "7", None))  # type: ignore[arg-type]


@pytest.mark.parametrize("moment", [
    datetime(2026, 11, 21, 19, 20, 15, tzinfo=UTC),               # no microseconds
    datetime(1999, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
])
def test_the_database_gives_back_every_time_as_the_hash_saw_it(
        db: Database, monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(sys.modules["workspace.audit.record"], "utcnow", lambda: moment)
    with db.write() as session:
        event = record(session, actor="alice", action=Action.DATASET_TAG_CREATE)
        assert iso(event.at).endswith("+00:00")
    report = verify(db)
    assert report.problem is None, report.to_dict()


def test_a_postgresql_session_in_another_time_zone_changes_nothing(
        postgresql_db: Database) -> None:
    db = postgresql_db
    elsewhere = Database(db.url + "?options=-c%20TimeZone%3DAsia%2FKolkata")
    try:
        with elsewhere.write() as session:
            record(session, actor="alice", action=Action.DATASET_TAG_CREATE)
        assert verify(elsewhere).problem is None
    finally:
        elsewhere.dispose()
    with db.write() as session:
        record(session, actor="bob", action=Action.DATASET_TAG_CREATE)
    assert verify(db).events == 2 and verify(db).problem is None


def test_sqlite_text_in_an_integer_column_is_an_edit(sqlite_db: Database) -> None:
    """PostgreSQL refuses text in an integer column by itself; SQLite stores it."""
    db, attacker = sqlite_db, Attacker(sqlite_db.url)
    for n in range(3):
        with db.write() as session:
            record(session, actor="alice", action=Action.DATASET_TAG_CREATE, version=n)
    attacker.disarm().edit(2, version="two")
    problem = verify(db).problem
    assert problem is not None and (problem.event_id, problem.reason) == (2, Reason.EDITED)

"""What the database itself enforces on audit_events (migration 0002)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.audit.conftest import record_events
from tests.audit.tamper import Attacker, run_protection_migration
from workspace.db import Database


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'mallory' WHERE id = 2",
    "UPDATE audit_events SET hash = hash",
    "DELETE FROM audit_events WHERE id = 2",
    "DELETE FROM audit_events",
])
def test_the_database_refuses_to_change_or_remove_events(db: Database, statement: str) -> None:
    record_events(db, 3)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 3
        actors = conn.execute(text("SELECT actor FROM audit_events ORDER BY id")).scalars()
        assert list(actors) == ["alice", "bob", "zoë"]


def test_postgresql_refuses_truncate(postgresql_db: Database) -> None:
    """SQLite has no TRUNCATE (its DELETE without WHERE is refused above)."""
    db = postgresql_db
    record_events(db, 2)
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_events"))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 2


def test_the_database_refuses_a_second_event_on_the_same_head(db: Database) -> None:
    """A fork (two events extending one head) cannot be stored, even by a writer that
    skipped the chain lock: ``prev_hash`` is unique."""
    record_events(db, 2)
    with pytest.raises(IntegrityError), db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO audit_events (at, actor, action, detail, prev_hash, hash) "
            "SELECT at, 'mallory', action, detail, prev_hash, :forged FROM audit_events "
            "WHERE id = 2"), {"forged": "a" * 64})


def test_appends_still_work_and_an_attacker_must_drop_the_triggers_first(
        db: Database, attacker: Attacker) -> None:
    record_events(db, 2)
    attacker.disarm().edit(1, actor="mallory")
    record_events(db, 1)
    with db.engine.connect() as conn:
        actors = conn.execute(text("SELECT actor FROM audit_events ORDER BY id")).scalars()
        assert list(actors) == ["mallory", "bob", "alice"]


def test_downgrade_removes_the_protection_and_upgrade_restores_it(db: Database) -> None:
    record_events(db, 2)
    run_protection_migration(db.url, "downgrade")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 1"))
    run_protection_migration(db.url, "upgrade")
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 1"))

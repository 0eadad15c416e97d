"""The attacker: someone with write access to the database who edits the audit table.

They first drop what the database enforces (the append-only triggers and the
unique ``prev_hash`` that refuses forks), as anyone with the table owner's
rights can; then they edit, delete, reorder, insert, cut or rehash rows.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

from workspace.audit.record import GENESIS, link_hash
from workspace.db import Database
from workspace.db.engine import migrations_dir
from workspace.db.queries import audit as queries

_COLUMNS = ("at", "actor", "action", "dataset", "version", "workspace", "path", "detail",
            "prev_hash", "hash")

_DISARM = {
    "sqlite": (
        "DROP TRIGGER audit_events_no_update",
        "DROP TRIGGER audit_events_no_delete",
        "DROP INDEX uq_audit_events_prev_hash",
    ),
    "postgresql": (
        "DROP TRIGGER audit_events_no_update_delete ON audit_events",
        "DROP TRIGGER audit_events_no_truncate ON audit_events",
        "DROP INDEX uq_audit_events_prev_hash",
    ),
}
_RESET = {
    "sqlite": (),
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
        "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
        "DROP FUNCTION IF EXISTS audit_events_refuse_change()",
        "TRUNCATE audit_events RESTART IDENTITY",
        "DROP INDEX IF EXISTS uq_audit_events_prev_hash",
        "DROP INDEX IF EXISTS ix_audit_events_actor_at_id",
        "DROP INDEX IF EXISTS ix_audit_events_dataset_at_id",
    ),
}


def rearm(url: str) -> None:
    """Empty the audit table and put back what migration 0002 creates (run for real)."""
    run_protection_migration(url, "upgrade", reset=True)


def run_protection_migration(url: str, direction: str, *, reset: bool = False) -> None:
    """Migration 0002's ``upgrade`` or ``downgrade`` alone, as Alembic runs it."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in _RESET[conn.dialect.name] if reset else ():
                conn.exec_driver_sql(statement)
            with Operations.context(MigrationContext.configure(conn)):
                getattr(_protection_migration(), direction)()
    finally:
        engine.dispose()


def _protection_migration() -> Any:
    path = migrations_dir() / "versions" / "0002_audit_protection.py"
    spec = importlib.util.spec_from_file_location("audit_protection_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Attacker:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    def disarm(self) -> Attacker:
        with self.engine.begin() as conn:
            for statement in _DISARM[conn.dialect.name]:
                conn.exec_driver_sql(statement)
        return self

    def run(self, sql: str, **params: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def row(self, conn: Connection, event_id: int) -> dict[str, Any]:
        found = conn.execute(text(f"SELECT {', '.join(_COLUMNS)} FROM audit_events "
                                  "WHERE id = :id"), {"id": event_id}).mappings().one()
        return dict(found)

    def edit(self, event_id: int, actor: str | None = None, **values: Any) -> None:
        values = values if actor is None else {"actor": actor, **values}
        sets = ", ".join(f"{name} = :{name}" for name in values)
        self.run(f"UPDATE audit_events SET {sets} WHERE id = :id", id=event_id, **values)

    def delete_from(self, first_id: int) -> None:
        self.run("DELETE FROM audit_events WHERE id >= :id", id=first_id)

    def swap(self, a: int, b: int) -> None:
        """Exchange two events' whole contents (hashes too): the rows swap places."""
        with self.engine.begin() as conn:
            row_a, row_b = self.row(conn, a), self.row(conn, b)
            self._set(conn, b, {"hash": "f" * 64, "prev_hash": "e" * 64})
            self._set(conn, a, row_b)
            self._set(conn, b, row_a)

    def insert_after(self, event_id: int, **values: Any) -> int:
        """Make room after ``event_id`` (later ids shift by one) and slip in a forged event
        that links to it, with a correct hash. Returns the forged event's id."""
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET id = -id WHERE id > :id"), {"id": event_id})
            conn.execute(text("UPDATE audit_events SET id = 1 - id WHERE id < 0"))
            forged = self.row(conn, event_id) | values
            forged["prev_hash"] = self.row(conn, event_id)["hash"]
            columns = ", ".join(_COLUMNS)
            conn.execute(text(f"INSERT INTO audit_events (id, {columns}) VALUES "
                              f"(:id, {', '.join(':' + c for c in _COLUMNS)})"),
                         {**forged, "id": event_id + 1, "hash": "0" * 64})
        self.rehash([event_id + 1])
        return event_id + 1

    def rehash(self, event_ids: list[int], *, relink: bool = False) -> None:
        """Give events the hash their (edited) fields deserve; with ``relink``, also point
        each at the event before it: the chain is recomputed and links up again."""
        db = Database(str(self.engine.url.render_as_string(hide_password=False)))
        try:
            with db.read() as session:
                rows = {row[0]: row for row in queries.chain_batch(session, after=None,
                                                                    limit=1_000_000)}
            ids = sorted(rows)
            with self.engine.begin() as conn:
                for event_id in event_ids:
                    prev = rows[event_id][1]
                    if relink:
                        index = ids.index(event_id)
                        prev = self._hash_of(conn, ids[index - 1]) if index else GENESIS
                    digest = link_hash(prev, tuple(rows[event_id][3:]))
                    self._set(conn, event_id, {"prev_hash": prev, "hash": digest})
        finally:
            db.dispose()

    def _hash_of(self, conn: Connection, event_id: int) -> str:
        return str(conn.execute(text("SELECT hash FROM audit_events WHERE id = :id"),
                                {"id": event_id}).scalar_one())

    def _set(self, conn: Connection, event_id: int, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{name} = :{name}" for name in values)
        conn.execute(text(f"UPDATE audit_events SET {sets} WHERE id = :id"),
                     {**values, "id": event_id})

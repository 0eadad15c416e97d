"""The daemon's SQLite WAL checkpoints run in a thread, not inside the commit that fills it.

A real migrated SQLite database and a write of ~7 MB (40,000 object rows, like a
big version): with SQLite's automatic checkpoints the commit itself copies the
log into the database file; with the daemon's ``background_checkpoints`` the
commit leaves it in the log, and the checkpoint thread copies it moments later.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from tests.support.databases import database
from workspace.db import Database, migrate
from workspace.db.models import StoredObject
from workspace.db.queries.bulk import insert_rows

ROWS = 40_000


def _write_big(db: Database) -> None:
    with db.write() as session:
        insert_rows(session, StoredObject, ("oid", "size"),
                    [(f"{i:064x}", i) for i in range(ROWS)],
                    same={"created_at": datetime.now(UTC)})


def _database(tmp_path: Path, background: bool) -> tuple[Database, Path]:
    path = tmp_path / "workspace.db"
    migrate(f"sqlite:///{path}")
    return Database(f"sqlite:///{path}", background_checkpoints=background), path


def test_without_it_the_commit_checkpoints_itself(tmp_path: Path) -> None:
    db, path = _database(tmp_path, background=False)
    before = path.stat().st_size
    _write_big(db)
    assert path.stat().st_size > before + 4_000_000  # copied back inside the commit
    assert db.checkpointer is None
    db.dispose()


def test_the_daemons_commit_leaves_the_log_to_the_checkpoint_thread(tmp_path: Path) -> None:
    db, path = _database(tmp_path, background=True)
    assert db.checkpointer is not None
    before = path.stat().st_size
    _write_big(db)
    assert path.stat().st_size == before  # the commit only appended to the log
    deadline = time.monotonic() + 10
    while path.stat().st_size <= before + 4_000_000 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.stat().st_size > before + 4_000_000
    assert db.checkpointer.checkpoints >= 1
    with db.read() as session:
        assert session.query(StoredObject).count() == ROWS
    db.dispose()


def test_only_sqlite_has_one(tmp_path: Path) -> None:
    with database("postgresql", tmp_path) as url:
        migrate(url)
        db = Database(url, background_checkpoints=True)
        assert db.checkpointer is None
        db.dispose()

"""Two write transactions at once, as two users' commits of the same new bytes make them.

On PostgreSQL both used to find the object row missing and both insert it:
the second commit failed with a unique violation ("the daemon hit an internal
error"). Writers now run one at a time on both databases, so the second sees
the first's row and both commits succeed.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.databases import database
from workspace.db import Database, migrate
from workspace.db.models import StoredObject
from workspace.db.queries import datasets as q

OID = "ab" * 32


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_writers_recording_the_same_new_object_both_commit(kind: str,
                                                                tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        migrate(url)
        first, second = Database(url), Database(url)
        try:
            errors: list[BaseException] = []
            started = threading.Event()

            def later_writer() -> None:
                started.set()
                try:
                    with second.write() as session:
                        q.record_objects(session, {OID: 4096})
                except BaseException as exc:
                    errors.append(exc)

            with first.write() as session:
                q.record_objects(session, {OID: 4096})
                thread = threading.Thread(target=later_writer)
                thread.start()
                started.wait()
                time.sleep(0.5)  # the second writer is now inside its transaction, or waiting
            thread.join(timeout=30)

            assert not thread.is_alive() and errors == []
            with first.read() as session:
                assert session.scalar(select(func.count()).select_from(StoredObject)) == 1
        finally:
            first.dispose()
            second.dispose()

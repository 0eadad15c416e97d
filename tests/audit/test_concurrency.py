"""Concurrent writers extend one chain: no fork, no lost event, verify passes."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from tests.audit.conftest import NO_TIMER
from workspace.audit import Action, record
from workspace.audit.checkpoint import checkpointing
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.audit.verify import verify
from workspace.db import Database

THREADS_PER_DAEMON = 4
EVENTS_PER_THREAD = 15


def _writer(db: Database, name: str, start: threading.Barrier, failures: list[str]) -> None:
    start.wait()
    try:
        for n in range(EVENTS_PER_THREAD):
            with db.write() as session:
                record(session, actor=name, action=Action.DATASET_VERSION_COMMIT,
                       dataset="vision/cats", version=n)
    except Exception as exc:  # reported by the test, with the thread that failed
        failures.append(f"{name}: {exc!r}")


def test_two_daemons_with_several_threads_each_keep_one_chain(db: Database,
                                                              log_dir: Path) -> None:
    """Two Database objects (two daemons' pools) on one database, writing at once."""
    second = Database(db.url)
    writers = [(daemon, f"d{d}t{t}") for d, daemon in enumerate((db, second))
               for t in range(THREADS_PER_DAEMON)]
    start, failures = threading.Barrier(len(writers)), list[str]()
    threads = [threading.Thread(target=_writer, args=(daemon, name, start, failures))
               for daemon, name in writers]
    with checkpointing(db, log_dir, every=7, interval=NO_TIMER):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    second.dispose()

    assert failures == []
    total = len(writers) * EVENTS_PER_THREAD
    report = verify(db, load_checkpoints(checkpoint_file(log_dir)).checkpoints, batch=50)
    assert report.problem is None, report.to_dict()
    assert report.events == total
    assert report.checked_checkpoints >= 1
    with db.engine.connect() as conn:
        forks = conn.execute(text("SELECT count(*) FROM (SELECT prev_hash FROM audit_events "
                                  "GROUP BY prev_hash HAVING count(*) > 1) AS f")).scalar_one()
        assert forks == 0

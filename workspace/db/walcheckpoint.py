"""The daemon's SQLite WAL checkpoints, in a thread of their own instead of inside a commit.

With SQLite's default (``wal_autocheckpoint=1000``), the commit that takes the
write-ahead log past 1,000 pages copies the log back into the database file
and fsyncs it, inside the request that committed: a version of 10,000 files
is ~7 MB of log, so every big add or checkout paid that (its commit took
23-31 ms instead of 11-12 ms). The daemon turns automatic checkpoints off on
its connections and runs ``PRAGMA wal_checkpoint(PASSIVE)`` here, shortly
after writes (coalesced, so a burst of commands costs one). PASSIVE, like
the automatic checkpoint, never blocks a reader or a writer; a crash leaves
the log, which SQLite replays at the next open, as before. When the daemon
stops, SQLite checkpoints on closing its last connection.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

log = logging.getLogger(__name__)

DELAY = 0.5
"""Seconds after a write before checkpointing: the command's answer goes out first, and
the writes of a burst are checkpointed together."""


class WalCheckpointer:
    """Checkpoints ``engine``'s SQLite WAL after writes (:meth:`wrote`), until :meth:`close`."""

    def __init__(self, engine: Engine, delay: float = DELAY) -> None:
        self._engine = engine
        self._delay = delay
        self._wrote = threading.Event()
        self._closing = threading.Event()
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def wrote(self) -> None:
        """A write transaction committed: checkpoint soon."""
        self._wrote.set()

    def close(self) -> None:
        self._closing.set()
        self._wrote.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            self._wrote.wait()
            if self._closing.wait(self._delay):
                return
            self._wrote.clear()
            try:
                self._checkpoint()
            except Exception:  # the next write tries again; the WAL only grows meanwhile
                log.exception("WAL checkpoint failed")

    def _checkpoint(self) -> None:
        connection = self._engine.raw_connection()  # autocommit: no transaction around it
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()
        self.checkpoints += 1

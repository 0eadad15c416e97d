"""The version's transaction, written while an add's or commit's files are published.

Recording a version of 10,000 files is ~150 ms of database work (the
entries' five B-trees, the objects, the version, the audit event), and
publishing and relinking those files is ~140 ms more (two ``syncfs``, the
links on the file workers, an ``lstat`` per file). Neither needs the
other's result until the very end: the rows need only the manifest, known
once the files are staged; only the stat cache needs the stats taken after
relinking. So :class:`VersionWriter` writes the rows in a thread of its own
as soon as the manifest is known, then waits; the caller publishes and
relinks, hands it the stat-cache rows, and only then does the transaction
commit. The write ordering is unchanged (design.md, "write ordering"): the
version commits after its objects are durable and the files relinked, and a
failure on either side rolls the transaction back and aborts the batch.

Only when nothing else writes the database between staging and recording:
the transaction holds the writer lock (SQLite's, or the advisory lock on
PostgreSQL), so a grant's index rows (service mode, ``acl/``) written in
between would wait for it forever. ``ReadAccess.writes_rows`` says which.
And only up to :data:`OVERLAP_UP_TO` staged files: other writers (another
workspace's add, the watcher's stat-cache refresh) wait while the lock is
held, so it is held across file work only as long as publishing and
relinking that many files takes (about a third of a second); a bigger add
writes its version after its files, holding no transaction while it works
on them (design.md, "Long operations").
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from workspace.datasets.manifest import ManifestEntry
from workspace.db import Database

OVERLAP_UP_TO = 20_000
"""Staged files up to which the version is written while they are published."""

Recorded = TypeVar("Recorded")
Manifest = dict[str, ManifestEntry]
Rows = list[dict[str, Any]]


class _Abandoned(Exception):
    """The caller gave up (its file work failed): roll the transaction back."""


class VersionWriter(Generic[Recorded]):
    """``record(session, manifest)`` then ``finish(session, recorded, rows)``, in one
    transaction written in a thread of its own; see the module docstring."""

    def __init__(self, db: Database, record: Callable[[Session, Manifest], Recorded],
                 finish: Callable[[Session, Recorded, Rows], None]) -> None:
        self._db = db
        self._record = record
        self._finish = finish
        self._rows: Rows | None = None
        self._handed = threading.Event()
        self._recorded: Recorded | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, manifest: Manifest) -> None:
        """Begin writing the version of ``manifest`` (the caller goes on publishing)."""
        self._thread = threading.Thread(target=self._write, args=(dict(manifest),),
                                        name="version-writer", daemon=True)
        self._thread.start()

    def commit(self, rows: Rows) -> Recorded:
        """The files are published and relinked: add the stat-cache ``rows``, commit, and
        return what ``record`` returned (its error, if it failed, is raised here)."""
        self._rows = rows
        self._end()
        if self._error is not None:
            raise self._error
        assert self._recorded is not None
        return self._recorded

    def abandon(self) -> None:
        """The file work failed: roll back (an error of the writer's own is dropped)."""
        self._end()

    @property
    def started(self) -> bool:
        return self._thread is not None

    def _end(self) -> None:
        self._handed.set()
        if self._thread is not None:
            self._thread.join()

    def _write(self, manifest: Manifest) -> None:
        try:
            with self._db.write() as session:
                recorded = self._record(session, manifest)
                self._handed.wait()
                if self._rows is None:
                    raise _Abandoned
                self._finish(session, recorded, self._rows)
            self._recorded = recorded
        except _Abandoned:
            pass
        except BaseException as exc:  # raised in the caller's thread by commit()
            self._error = exc

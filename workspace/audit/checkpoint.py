"""Checkpoints: the chain's head, written outside the database.

The hash chain alone proves that no event was edited, inserted, reordered or
removed *in the middle*; it cannot see a tail cut off, nor a chain recomputed
from an edited event onwards (the hash has no key). So the daemon writes the
head (sequence = event id, hash, time) where a database user cannot reach: a
line appended and fsynced to ``<audit_log_dir>/checkpoints.log`` (see
``checkpoint_file.py``) and a message to the system log. ``verify`` then
checks that each checkpointed event still exists with the same hash.

A checkpoint is written

- as soon as a transaction that changes who may do what commits (a role,
  policy, user, password or token change: ``tags.SECURITY_RELEVANT``), so a
  crash right after a grant cannot leave the grant uncovered;
- within ``interval`` seconds of any other committed event (a timer thread),
  and after every ``every`` events;
- at shutdown.

Checkpoints are written only after the transaction that appended the events
has committed (a SQLAlchemy ``after_commit`` hook), never inside it, and name
the head as read after that commit: a checkpoint must never name an event
that was rolled back. A failure to write one is logged and retried; it never
fails a request whose change is already committed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from workspace.audit.checkpoint_file import (
    Checkpoint,
    append_line,
    checkpoint_file,
    create,
    now_text,
    prepare_directory,
)
from workspace.audit.record import APPENDED, URGENT
from workspace.db import Database
from workspace.db.queries import audit as queries

log = logging.getLogger("workspace.audit")

SYSLOG_ADDRESS = "/dev/log"
DEFAULT_INTERVAL = 5.0
RESET_COMMAND = "ws audit reset-checkpoints --reason TEXT"


class Checkpointer:
    """Checkpoints one database's chain: on security-relevant commits, every ``every``
    events, within ``interval`` seconds of any event, and when asked (shutdown)."""

    def __init__(self, directory: Path, *, every: int, interval: float = DEFAULT_INTERVAL,
                 syslog_address: str = SYSLOG_ADDRESS) -> None:
        self.path = checkpoint_file(directory)
        self.every = max(1, every)
        self.interval = interval
        prepare_directory(directory)
        self._syslog = _open_syslog(syslog_address)
        self._lock = threading.Lock()
        self._pending = 0  # committed events no checkpoint covers yet
        self._failing = False
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._pool: Any = None
        self._db: Database | None = None

    def attach(self, db: Database) -> None:
        """Hear every commit of ``db``'s sessions (other databases' sessions are ignored),
        and start the timer."""
        self._db, self._pool = db, db.engine.pool
        self._create_if_new(db)
        event.listen(Session, "after_commit", self._after_commit)
        event.listen(Session, "after_rollback", self._after_rollback)
        self._timer = threading.Thread(target=self._tick, name="audit-checkpoint", daemon=True)
        self._timer.start()

    def detach(self) -> None:
        with suppress(Exception):
            event.remove(Session, "after_commit", self._after_commit)
            event.remove(Session, "after_rollback", self._after_rollback)
        self._stop.set()
        if self._timer is not None:
            self._timer.join()

    def write_head(self, db: Database) -> Checkpoint | None:
        """Checkpoint the current head (at shutdown); nothing when the log is empty."""
        with db.read() as session:
            found = queries.head(session)
        return None if found is None else self.write(*found)

    def write(self, sequence: int, digest: str) -> Checkpoint:
        """Send the checkpoint to the system log, then append it to the file (fsynced)."""
        checkpoint = Checkpoint(sequence, digest, now_text())
        self._to_syslog(checkpoint)
        with self._lock:
            append_line(self.path, checkpoint.line())
        log.info("audit checkpoint: event %d, hash %s", sequence, digest)
        return checkpoint

    def close(self) -> None:
        if self._syslog is not None:
            self._syslog.close()

    def _create_if_new(self, db: Database) -> None:
        """A new install (empty chain) starts its file; a missing file of a non-empty chain
        is never replaced silently (``verify`` fails until an admin resets it)."""
        with db.read() as session:
            head = queries.head(session)
        if os.path.lexists(self.path):
            return
        if head is None:
            create(self.path)
            return
        log.error("the audit checkpoint file %s is missing while the audit log has events "
                  "(up to event %d): `ws audit verify` fails until an admin who knows why "
                  "runs `%s`; checkpoints go to the system log only", self.path, head[0],
                  RESET_COMMAND)

    def _after_commit(self, session: Session) -> None:
        """Count the events this commit added; when a checkpoint is due, write the
        committed head (read afresh: it is committed by now, whoever appended it)."""
        appended, urgent = self._take_appended(session)
        if not appended:
            return
        with self._lock:
            self._pending += len(appended)
            due = urgent or self._pending >= self.every
            if due:
                self._pending = 0
        if due:
            self._write_head_quietly()

    def _after_rollback(self, session: Session) -> None:
        self._take_appended(session)

    def _take_appended(self, session: Session) -> tuple[list[tuple[int, str]], bool]:
        """The events this session appended (if it is one of our database's sessions), and
        whether one of them was security-relevant."""
        if getattr(session.bind, "pool", None) is not self._pool:
            return [], False
        taken: list[tuple[int, str]] = session.info.pop(APPENDED, [])
        return taken, bool(session.info.pop(URGENT, False))

    def _tick(self) -> None:
        """Every ``interval`` seconds, checkpoint events that are not covered yet."""
        while not self._stop.wait(self.interval):
            with self._lock:
                due, self._pending = self._pending > 0, 0
            if due:
                self._write_head_quietly()

    def _write_head_quietly(self) -> None:
        assert self._db is not None
        try:
            self.write_head(self._db)
        except (OSError, SQLAlchemyError) as exc:
            self._failed(exc)
            return
        if self._failing:
            log.warning("audit checkpoints are written to %s again", self.path)
            self._failing = False

    def _failed(self, exc: Exception) -> None:
        """Log once per run of failures; the timer retries."""
        with self._lock:
            self._pending = max(self._pending, 1)
            first, self._failing = not self._failing, True
        if not first:
            return
        if isinstance(exc, FileNotFoundError):
            log.error("cannot write the audit checkpoint: %s is missing (it is never "
                      "recreated while the log has events): `ws audit verify` fails until "
                      "an admin runs `%s`", self.path, RESET_COMMAND)
        else:
            log.error("cannot write the audit checkpoint to %s: %s (retried every %s s)",
                      self.path, exc, self.interval)

    def _to_syslog(self, checkpoint: Checkpoint) -> None:
        if self._syslog is None:
            return
        message = (f"checkpoint sequence={checkpoint.sequence} hash={checkpoint.hash} "
                   f"at={checkpoint.at} file={self.path}")
        self._syslog.handle(logging.makeLogRecord(
            {"msg": message, "levelno": logging.INFO, "levelname": "INFO"}))


@contextmanager
def checkpointing(db: Database, directory: Path, *, every: int,
                  interval: float = DEFAULT_INTERVAL,
                  syslog_address: str = SYSLOG_ADDRESS) -> Iterator[Checkpointer]:
    """Checkpoint ``db`` while the block runs, and its head once more when it ends."""
    checkpointer = Checkpointer(directory, every=every, interval=interval,
                                syslog_address=syslog_address)
    checkpointer.attach(db)
    try:
        yield checkpointer
    finally:
        checkpointer.detach()
        try:
            checkpointer.write_head(db)
        except Exception as exc:  # shutdown goes on; the log says what was missed
            log.error("cannot write the final audit checkpoint: %s", exc)
        checkpointer.close()


class _QuietSysLog(SysLogHandler):
    """A syslog that is down loses a line, never a request (and prints no traceback)."""

    def handleError(self, record: logging.LogRecord) -> None:
        log.warning("the system log refused an audit checkpoint (the file has it)")


def _open_syslog(address: str) -> SysLogHandler | None:
    if not os.path.exists(address):
        return None
    try:
        handler = _QuietSysLog(address=address, facility=SysLogHandler.LOG_AUTHPRIV)
    except OSError as exc:
        log.warning("system log unavailable at %s: %s", address, exc)
        return None
    handler.ident = "workspace-audit: "
    return handler

"""Checkpoints: the chain's head, written outside the database.

The hash chain alone proves that no event was edited, inserted, reordered or
removed *in the middle*; it cannot see a tail cut off, nor a chain recomputed
from an edited event onwards (the hash has no key). So every
``audit_checkpoint_every`` events, and at shutdown, the daemon writes the
head (sequence = event id, hash, time) where a database user cannot reach:
a line appended and fsynced to ``<audit_log_dir>/checkpoints.log`` (0600 in a
0700 directory) and a message to the system log. ``verify`` then checks that
each checkpointed event still exists with the same hash.

Checkpoints are written only after the transaction that appended the events
has committed (a SQLAlchemy ``after_commit`` hook), never inside it, and name
the head as read after that commit: a checkpoint must never name an event
that was rolled back. A failure to write
one is logged and retried at the next commit; it never fails a request whose
change is already committed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from logging.handlers import SysLogHandler
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from workspace.audit.record import APPENDED
from workspace.db import Database
from workspace.db.queries import audit as queries

log = logging.getLogger("workspace.audit")

CHECKPOINT_FILE = "checkpoints.log"
SYSLOG_ADDRESS = "/dev/log"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head at one moment: event ``sequence`` had hash ``hash``."""

    sequence: int
    hash: str
    at: str

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"

    @staticmethod
    def parse(line: str) -> Checkpoint | None:
        """A line of the checkpoint file, or None if it is not one (e.g. torn by a crash)."""
        try:
            data = json.loads(line)
            found = Checkpoint(int(data["sequence"]), str(data["hash"]), str(data["at"]))
        except (ValueError, KeyError, TypeError):
            return None
        return found if len(found.hash) == 64 else None


def checkpoint_file(directory: Path) -> Path:
    return directory / CHECKPOINT_FILE


def read_checkpoints(path: Path) -> tuple[list[Checkpoint], int]:
    """Every checkpoint in the file (none if it does not exist yet), and how many lines
    could not be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], 0
    lines = [line for line in text.splitlines() if line.strip()]
    found = [cp for cp in map(Checkpoint.parse, lines) if cp is not None]
    return found, len(lines) - len(found)


class Checkpointer:
    """Writes a checkpoint every ``every`` committed events of one database."""

    def __init__(self, directory: Path, *, every: int,
                 syslog_address: str = SYSLOG_ADDRESS) -> None:
        self.path = checkpoint_file(directory)
        self.every = max(1, every)
        self._prepare(directory)
        self._syslog = _open_syslog(syslog_address)
        self._lock = threading.Lock()
        self._since_last = 0
        self._pool: Any = None
        self._db: Database | None = None

    def attach(self, db: Database) -> None:
        """Hear every commit of ``db``'s sessions (other databases' sessions are ignored)."""
        self._db, self._pool = db, db.engine.pool
        event.listen(Session, "after_commit", self._after_commit)
        event.listen(Session, "after_rollback", self._after_rollback)

    def detach(self) -> None:
        with suppress(Exception):
            event.remove(Session, "after_commit", self._after_commit)
            event.remove(Session, "after_rollback", self._after_rollback)

    def write_head(self, db: Database) -> Checkpoint | None:
        """Checkpoint the current head (at shutdown); nothing when the log is empty."""
        with db.read() as session:
            found = queries.head(session)
        return None if found is None else self.write(*found)

    def write(self, sequence: int, digest: str) -> Checkpoint:
        """Append the checkpoint to the file (fsynced) and send it to the system log."""
        checkpoint = Checkpoint(sequence, digest, _now())
        with self._lock:
            self._append(checkpoint.line())
        self._to_syslog(checkpoint)
        log.info("audit checkpoint: event %d, hash %s", sequence, digest)
        return checkpoint

    def close(self) -> None:
        if self._syslog is not None:
            self._syslog.close()

    def _after_commit(self, session: Session) -> None:
        """Count the events this commit added; when N are due, checkpoint the committed
        head (read afresh: it is committed by now, whoever appended it)."""
        appended = self._take_appended(session)
        if not appended:
            return
        with self._lock:  # one thread per N events does it (and needs a 2nd connection)
            self._since_last += len(appended)
            due = self._since_last >= self.every
            if due:
                self._since_last = 0
        if due:
            self._write_head_quietly()

    def _after_rollback(self, session: Session) -> None:
        self._take_appended(session)

    def _take_appended(self, session: Session) -> list[tuple[int, str]]:
        """The events this session appended, if it is one of our database's sessions."""
        if getattr(session.bind, "pool", None) is not self._pool:
            return []
        taken: list[tuple[int, str]] = session.info.pop(APPENDED, [])
        return taken

    def _write_head_quietly(self) -> None:
        assert self._db is not None
        try:
            self.write_head(self._db)
        except (OSError, SQLAlchemyError) as exc:
            log.error("cannot write the audit checkpoint to %s: %s (retried at the next "
                      "commit)", self.path, exc)
            with self._lock:
                self._since_last = self.every

    def _append(self, line: str) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags, 0o600)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def _prepare(self, directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory.stat().st_mode & 0o077:
            directory.chmod(0o700)
        if self.path.exists() and self.path.stat().st_mode & 0o077:
            self.path.chmod(0o600)

    def _to_syslog(self, checkpoint: Checkpoint) -> None:
        if self._syslog is None:
            return
        message = (f"checkpoint sequence={checkpoint.sequence} hash={checkpoint.hash} "
                   f"at={checkpoint.at} file={self.path}")
        self._syslog.handle(logging.makeLogRecord(
            {"msg": message, "levelno": logging.INFO, "levelname": "INFO"}))


@contextmanager
def checkpointing(db: Database, directory: Path, *, every: int,
                  syslog_address: str = SYSLOG_ADDRESS) -> Iterator[Checkpointer]:
    """Checkpoint ``db`` while the block runs, and its head once more when it ends."""
    checkpointer = Checkpointer(directory, every=every, syslog_address=syslog_address)
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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

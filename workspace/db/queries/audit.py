"""Queries on the audit table (append and read; never update or delete).

Reads for ``verify`` return Core rows, not ORM objects: a million of them are
walked in a few seconds only without the identity map and instance state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, func, select, type_coerce
from sqlalchemy.orm import Session

from workspace.db.models import AuditEvent

_TABLE = AuditEvent.__table__
_SQLITE_ISO = func.replace(type_coerce(_TABLE.c.at, String), " ", "T") + "+00:00"
_POSTGRES_ISO = func.to_char(func.timezone("UTC", _TABLE.c.at),
                             'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')


@dataclass(frozen=True, slots=True)
class Filters:
    """What `ws audit` narrows by; each ``None`` means "any"."""

    actor: str | None = None
    dataset: str | None = None
    action: str | None = None
    path_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def head_hash(session: Session) -> str | None:
    stmt = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    return session.scalar(stmt)


def head(session: Session) -> tuple[int, str] | None:
    """The newest event's (id, hash), or None when the log is empty."""
    stmt = select(_TABLE.c.id, _TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)
    row = session.execute(stmt).first()
    return None if row is None else (row.id, row.hash)


def chain_batch(session: Session, *, after: int | None, limit: int) -> Sequence[Sequence[Any]]:
    """The next ``limit`` events after id ``after`` (keyset pagination: an index seek, no OFFSET).

    Each row is ``(id, prev_hash, hash, *fields)`` with the fields in the hash's key
    order and ``at`` already rendered by the database as the hash writes it
    (``2026-11-21T19:20:15.123456+00:00``): parsing a million timestamps into
    datetimes and formatting them back would cost more than all the hashing.
    """
    at = _SQLITE_ISO if session.get_bind().dialect.name == "sqlite" else _POSTGRES_ISO
    c = _TABLE.c
    stmt = select(c.id, c.prev_hash, c.hash, c.action, c.actor, at, c.dataset, c.detail, c.path,
                  c.version, c.workspace).order_by(c.id).limit(limit)
    if after is not None:
        stmt = stmt.where(_TABLE.c.id > after)
    return session.execute(stmt).all()


def id_of_hash(session: Session, digest: str) -> int | None:
    """Which event has this hash (``hash`` is unique): where a broken link really points."""
    return session.scalar(select(AuditEvent.id).where(AuditEvent.hash == digest).limit(1))


def first_id_after(session: Session, event_id: int) -> int | None:
    stmt = select(AuditEvent.id).where(AuditEvent.id > event_id).order_by(AuditEvent.id).limit(1)
    return session.scalar(stmt)


def search(session: Session, filters: Filters, *, limit: int = 100) -> Sequence[AuditEvent]:
    """Newest first (by time, then id), so a filter on actor or dataset plus a time range
    is one backward range scan of ``(actor|dataset, at, id)``: no sort, stops at ``limit``."""
    return session.scalars(search_statement(filters, limit=limit)).all()


def search_statement(filters: Filters, *, limit: int) -> Select[AuditEvent]:
    """The statement `search` runs (the benchmark shows its query plan)."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if filters.actor is not None:
        stmt = stmt.where(AuditEvent.actor == filters.actor)
    if filters.dataset is not None:
        stmt = stmt.where(AuditEvent.dataset == filters.dataset)
    if filters.action is not None:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.path_prefix:  # not LIKE: SQLite's LIKE ignores case
        prefix = filters.path_prefix
        stmt = stmt.where(func.substr(AuditEvent.path, 1, len(prefix)) == prefix)
    if filters.since is not None:
        stmt = stmt.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AuditEvent.at < filters.until)
    return stmt


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0

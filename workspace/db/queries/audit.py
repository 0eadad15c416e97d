"""Queries on the audit table (append and read; never update or delete)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workspace.db.models import AuditEvent


def head_hash(session: Session) -> str | None:
    stmt = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    return session.scalar(stmt)


def lock_chain_postgres(session: Session, key: int) -> None:
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def search(
    session: Session,
    *,
    dataset: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> Sequence[AuditEvent]:
    """Newest first; each filter is an indexed column."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if dataset is not None:
        stmt = stmt.where(AuditEvent.dataset == dataset)
    if actor is not None:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    return session.scalars(stmt).all()


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0

"""Queries on quotas: the most bytes the datasets matching a pattern may hold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workspace.db.models import User
from workspace.db.models_maintenance import Quota


def all_quotas(session: Session) -> Sequence[Any]:
    """(pattern, bytes, set_by name, set_at) by pattern."""
    stmt = (select(Quota.pattern, Quota.bytes, User.name.label("set_by"), Quota.set_at)
            .join(User, User.id == Quota.set_by).order_by(Quota.pattern))
    return session.execute(stmt).all()


def set_quota(session: Session, *, pattern: str, size: int, user_id: int) -> int | None:
    """Create or change the quota on ``pattern``; returns the previous size, if any."""
    row = session.get(Quota, pattern)
    if row is None:
        session.add(Quota(pattern=pattern, bytes=size, set_by=user_id))
        session.flush()
        return None
    previous = row.bytes
    row.bytes, row.set_by = size, user_id
    session.flush()
    return previous


def remove_quota(session: Session, pattern: str) -> bool:
    result = session.execute(delete(Quota).where(Quota.pattern == pattern))
    return bool(getattr(result, "rowcount", 0))

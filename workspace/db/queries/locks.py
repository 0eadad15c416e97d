"""Queries on file locks and on notices to users."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from workspace.db.models import Dataset
from workspace.db.models_locks import Lock, Notice
from workspace.db.queries.paths import starts_with

_CHUNK = 500


def on_paths(session: Session, dataset_id: int, paths: Iterable[str]) -> list[Lock]:
    """The locks on exactly these paths of the dataset."""
    if session.scalar(select(Lock.id).where(Lock.dataset_id == dataset_id).limit(1)) is None:
        return []  # most datasets have no lock: no look-up of each of 10,000 paths
    wanted = sorted(set(paths))
    found: list[Lock] = []
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(Lock).where(Lock.dataset_id == dataset_id,
                                  Lock.path.in_(wanted[start:start + _CHUNK]))
        found.extend(session.scalars(stmt))
    return found


def under(session: Session, dataset_id: int, path: str) -> Sequence[Lock]:
    """Locks on ``path`` itself or below it (``""``: every lock of the dataset)."""
    stmt = select(Lock).where(Lock.dataset_id == dataset_id)
    if path:
        stmt = stmt.where(or_(Lock.path == path,
                              starts_with(Lock.path, path + "/")))
    return session.scalars(stmt.order_by(Lock.path)).all()


def listed(session: Session, dataset_id: int | None = None) -> Sequence[tuple[Lock, str]]:
    """(lock, dataset name), by dataset and path; every dataset's unless one is named."""
    stmt = select(Lock, Dataset.name).join(Dataset, Dataset.id == Lock.dataset_id)
    if dataset_id is not None:
        stmt = stmt.where(Lock.dataset_id == dataset_id)
    return [(row[0], row[1]) for row in session.execute(stmt.order_by(Dataset.name, Lock.path))]


def add(session: Session, locks: Sequence[Lock]) -> None:
    session.add_all(locks)
    session.flush()


def remove(session: Session, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), _CHUNK):
        session.execute(delete(Lock).where(Lock.id.in_(ids[start:start + _CHUNK])))


def add_notice(session: Session, user_id: int, message: str) -> None:
    session.add(Notice(user_id=user_id, message=message))
    session.flush()


def pending_notices(session: Session, user_id: int) -> Sequence[Notice]:
    stmt = select(Notice).where(Notice.user_id == user_id, Notice.delivered_at.is_(None))
    return session.scalars(stmt.order_by(Notice.id)).all()


def mark_delivered(session: Session, ids: Sequence[int], at: datetime) -> int:
    """Mark undelivered notices delivered; returns how many this call marked (a concurrent
    request may have taken some first)."""
    stmt = (update(Notice).where(Notice.id.in_(list(ids)), Notice.delivered_at.is_(None))
            .values(delivered_at=at))
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

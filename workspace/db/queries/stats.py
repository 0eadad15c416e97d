"""Aggregates for the metrics endpoint: one statement each, no walk of the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from workspace.db.models import AuditEvent, Dataset, StoredObject, Version


def object_totals(session: Session) -> tuple[int, int]:
    """(objects, bytes) the database knows to be in the store: each object once."""
    row = session.execute(select(func.count(), func.coalesce(func.sum(StoredObject.size), 0))
                          .select_from(StoredObject)).one()
    return int(row[0]), int(row[1])


def logical_bytes(session: Session) -> int:
    """The bytes of every version counted in full: what a store without sharing would hold."""
    return int(session.scalar(select(func.coalesce(func.sum(Version.total_bytes), 0))) or 0)


def latest_sizes(session: Session) -> Sequence[Any]:
    """(name, files, bytes, versions) of every dataset's latest version."""
    stmt = (select(Dataset.name, Version.file_count, Version.total_bytes, Dataset.latest)
            .join(Version, and_(Version.dataset_id == Dataset.id,
                                Version.number == Dataset.latest))
            .order_by(Dataset.name))
    return session.execute(stmt).all()


def audit_totals(session: Session) -> tuple[int, int]:
    """(events, the newest event's id). Ids are not a count: PostgreSQL's sequence skips
    the ids of rolled-back appends."""
    row = session.execute(select(func.count(), func.coalesce(func.max(AuditEvent.id), 0))
                          .select_from(AuditEvent)).one()
    return int(row[0]), int(row[1])

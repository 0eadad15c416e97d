"""Queries on aliases (where each points now) and their moves (every change, kept)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workspace.db.models_aliases import Alias, AliasMove


def current(session: Session, dataset_id: int, name: str) -> Alias | None:
    stmt = select(Alias).where(Alias.dataset_id == dataset_id, Alias.name == name)
    return session.scalar(stmt)


def target(session: Session, dataset_id: int, name: str) -> int | None:
    """The version the alias names now, or None."""
    stmt = select(Alias.version).where(Alias.dataset_id == dataset_id, Alias.name == name)
    return session.scalar(stmt)


def of_dataset(session: Session, dataset_id: int) -> Sequence[Alias]:
    stmt = select(Alias).where(Alias.dataset_id == dataset_id).order_by(Alias.name)
    return session.scalars(stmt).all()


def by_version(session: Session, dataset_id: int) -> dict[int, list[str]]:
    """version -> the names of the aliases that point at it now (sorted)."""
    found: dict[int, list[str]] = {}
    stmt = select(Alias.version, Alias.name).where(Alias.dataset_id == dataset_id)
    for number, name in session.execute(stmt.order_by(Alias.name)):
        found.setdefault(number, []).append(name)
    return found


def add_move(session: Session, move: AliasMove) -> None:
    session.add(move)
    session.flush()


def moves(session: Session, dataset_id: int, name: str, *, until: datetime | None = None,
          limit: int | None = None) -> Sequence[AliasMove]:
    """The alias's moves, newest first; with ``until``, only those at or before it."""
    stmt = select(AliasMove).where(AliasMove.dataset_id == dataset_id, AliasMove.name == name)
    if until is not None:
        stmt = stmt.where(AliasMove.at <= until)
    stmt = stmt.order_by(AliasMove.at.desc(), AliasMove.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()


def ever_named(session: Session, dataset_id: int, name: str) -> bool:
    stmt = select(AliasMove.id).where(AliasMove.dataset_id == dataset_id,
                                      AliasMove.name == name).limit(1)
    return session.scalar(stmt) is not None

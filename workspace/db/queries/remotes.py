"""Queries on remotes."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import distinct, select, update
from sqlalchemy.orm import Session

from workspace.db.models import Entry
from workspace.db.models_remote import Remote


def all_remotes(session: Session) -> Sequence[Remote]:
    return session.scalars(select(Remote).order_by(Remote.name)).all()


def by_name(session: Session, name: str) -> Remote | None:
    return session.scalar(select(Remote).where(Remote.name == name))


def default(session: Session) -> Remote | None:
    return session.scalar(select(Remote).where(Remote.is_default.is_(True)))


def add(session: Session, *, name: str, url: str, user_id: int, is_default: bool) -> Remote:
    if is_default:
        clear_default(session)
    remote = Remote(name=name, url=url, created_by=user_id, is_default=is_default)
    session.add(remote)
    session.flush()
    return remote


def clear_default(session: Session) -> None:
    session.execute(update(Remote).values(is_default=False))


def remove(session: Session, remote: Remote) -> None:
    session.delete(remote)
    session.flush()


def dataset_oids(session: Session, dataset_id: int) -> set[str]:
    """Every object any version of the dataset references."""
    return set(session.scalars(select(distinct(Entry.oid)).where(Entry.dataset_id == dataset_id)))

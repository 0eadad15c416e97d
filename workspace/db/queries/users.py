"""Queries on users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workspace.db.models import User


def by_uid(session: Session, uid: int) -> User | None:
    return session.scalar(select(User).where(User.uid == uid))


def by_name(session: Session, name: str) -> User | None:
    return session.scalar(select(User).where(User.name == name))


def create(session: Session, *, name: str, uid: int | None) -> User:
    user = User(name=name, uid=uid, is_robot=False, disabled=False)
    session.add(user)
    session.flush()
    return user

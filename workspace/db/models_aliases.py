"""Aliases: movable names for versions (``vision/cats@production``), and every move.

A tag names one version forever; an alias moves. ``aliases`` holds where each
alias points now (one row per dataset and name), ``alias_moves`` every set,
move and removal with who, when and why. Rows of ``alias_moves`` are only ever
added, so "which version was ``production`` at time T" is the latest move at
or before T: one indexed read. The audit log records each move too (in the
same transaction), which is what makes the history tamper-evident.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow


class Alias(Base):
    """Where an alias points now; a name is never both a tag and an alias of one dataset."""

    __tablename__ = "aliases"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    moved_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AliasMove(Base):
    """One set (``from_version`` None), move, or removal (``to_version`` None) of an alias."""

    __tablename__ = "alias_moves"
    __table_args__ = (Index(None, "dataset_id", "name", "at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    name: Mapped[str] = mapped_column(String(100))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text)

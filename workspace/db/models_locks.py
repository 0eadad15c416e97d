"""File locks (Git LFS style, but enforced by the daemon) and notices to users.

A lock is on (dataset, path in the dataset) and has one holder; a commit that
changes a path locked by someone else is refused. When an admin breaks a
lock, the holder gets a ``notice``: a message delivered once, with the next
request they make (the CLI prints it), then marked delivered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow


class Lock(Base):
    """``user_id`` holds ``path`` of ``dataset_id`` since ``created_at``."""

    __tablename__ = "locks"
    __table_args__ = (UniqueConstraint("dataset_id", "path"), Index(None, "user_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    path: Mapped[str] = mapped_column(String(4096))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    """A message for ``user_id``, handed over once (``delivered_at`` set when it is)."""

    __tablename__ = "notices"
    __table_args__ = (Index(None, "user_id", "delivered_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

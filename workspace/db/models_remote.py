"""Remotes: where datasets are pushed to and pulled from (S3-compatible storage, file://).

Only the name, the URL and which remote is the default are kept. Credentials
never are: the daemon reads them from its environment (the standard AWS
variables) when it talks to S3, so the database never holds a secret.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow


class Remote(Base):
    """A named remote; at most one is the default (``ws push``/``pull`` without --remote)."""

    __tablename__ = "remotes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(1024))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

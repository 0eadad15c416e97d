"""The Casbin rule table and the policy state row.

Rules are stored one per row in Casbin's own shape (``ptype`` and up to four
values), so a row is exactly one line of ``policy.csv``. Unused values are
``""`` rather than NULL: NULLs never collide in a unique constraint, and the
unique constraint is what makes a rule exist at most once (so removing it
removes exactly one row).

``policy_state`` has a single row (id 1). Its ``version`` is bumped in the same
transaction as every rule or model change; daemons sharing the database poll
it to notice each other's changes, and decision caches are keyed on it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow

POLICY_VALUE = String(255)


class PolicyRule(Base):
    """One Casbin rule: ``p, sub, obj, act, eft`` or ``g, member, role, pattern``.

    ``source`` is ``file`` for rules that come from ``policy.csv`` (replaced
    when the file changes) and ``api`` for rules made through the API.
    """

    __tablename__ = "policy_rules"
    __table_args__ = (UniqueConstraint("ptype", "v0", "v1", "v2", "v3"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ptype: Mapped[str] = mapped_column(String(8))
    v0: Mapped[str] = mapped_column(POLICY_VALUE)
    v1: Mapped[str] = mapped_column(POLICY_VALUE)
    v2: Mapped[str] = mapped_column(POLICY_VALUE, default="")
    v3: Mapped[str] = mapped_column(POLICY_VALUE, default="")
    source: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PolicyState(Base):
    """The single row (id 1): the change counter, the Casbin model, when files were applied."""

    __tablename__ = "policy_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    model: Mapped[str | None] = mapped_column(Text)
    files_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

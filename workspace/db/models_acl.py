"""The index of object ACLs: which principal was given which objects, and why.

A *holding* is "principal P was given objects because it may read dataset
D" (P is a Unix user or group, named by uid/gid as the kernel's ACL names
it). Its ``state`` is P's right on D as last evaluated against the policy
(``allow``, ``deny``, ``drop`` when the holding is being removed, or
``allow mask=UID,...`` for a group whose listed members may not read). An
object's ACL is always a function of the holdings that contain it and their
states; ``dirty`` marks a holding whose state changed and whose objects'
ACLs are still being rewritten (the durable queue of revokes and restores,
resumed at start, with ``done``/``total`` for progress).

Write ordering (docs/design.md): an ``acl_objects`` row is committed before
the entry it justifies is set (as ``pending`` until the entry is known to
be set), and an entry is removed before its row is deleted. So every entry
on disk has a row: a revoke finds everything it must touch by index, never
by walking the store.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow

OID = String(64)


class AclStore(Base):
    """One object store using this database (each server's store holds its own inodes)."""

    __tablename__ = "acl_stores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    # The policy version the holdings were last evaluated at; NULL: evaluate again now
    # (set by account changes, which the policy version does not count).
    evaluated_version: Mapped[int | None] = mapped_column(BigInteger)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    converted: Mapped[bool] = mapped_column(Boolean, default=False)  # objects carry ACLs


class AclHolding(Base):
    """Principal (``tag`` 2 user / 8 group, ``ident`` uid/gid) holds objects of ``dataset``."""

    __tablename__ = "acl_holdings"
    __table_args__ = (
        UniqueConstraint("store_id", "tag", "ident", "dataset"),
        Index(None, "store_id", "dirty"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("acl_stores.id", ondelete="CASCADE"))
    tag: Mapped[int] = mapped_column(SmallInteger)
    ident: Mapped[int] = mapped_column(BigInteger)
    dataset: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(Text)
    dirty: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(32), default="grant")
    generation: Mapped[int] = mapped_column(Integer, default=0)  # +1 at each change of state
    cursor: Mapped[str | None] = mapped_column(OID)  # last oid rewritten while dirty
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AclObject(Base):
    """An object of a holding; ``pending`` until its entry is known to be set."""

    __tablename__ = "acl_objects"
    __table_args__ = (Index(None, "oid"),)
    holding_id: Mapped[int] = mapped_column(
        ForeignKey("acl_holdings.id", ondelete="CASCADE"), primary_key=True)
    oid: Mapped[str] = mapped_column(OID, primary_key=True)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)


class AclCopy(Base):
    """A private copy the daemon made in a workspace (``root``/``path``), read by its owner.

    ``released``: the workspace was unregistered; the owner's entry is taken off
    the file, then the row is forgotten (the daemon loses access to the directory).
    """

    __tablename__ = "acl_copies"
    __table_args__ = (Index(None, "holding_id"), Index(None, "root"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holding_id: Mapped[int] = mapped_column(ForeignKey("acl_holdings.id", ondelete="CASCADE"))
    owner_uid: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(4096))
    path: Mapped[str] = mapped_column(String(4096))
    executable: Mapped[bool] = mapped_column(Boolean, default=False)
    dev: Mapped[int] = mapped_column(BigInteger)
    ino: Mapped[int] = mapped_column(BigInteger)
    released: Mapped[bool] = mapped_column(Boolean, default=False)

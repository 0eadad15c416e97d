"""Tables of the store's upkeep: pins, pruned versions, damage, scrub progress, quotas.

- ``object_pins``: objects an operation on another daemon trusts before the
  version naming them commits (PostgreSQL only: one daemon keeps its pins in
  memory, see ``store/pins.py``). Deleted in the version's own transaction.
- ``pruned_versions``: versions taken out of use by ``ws prune``/``ws rm`` or
  a retention rule. The version row and its entries stay (log and blame keep
  the history); a pruned version is no longer listed, checked out or counted
  as a reference by gc.
- ``damaged_objects``: objects of one store found missing or corrupt (the
  corrupt bytes are in quarantine). Every version whose manifest holds one is
  damaged and refused until ``ws fsck --repair`` restores the object.
- ``evicted_objects``: objects of one store that ``ws gc --evict`` dropped
  because the default remote holds them (written before the unlink). Such an
  object is absent on purpose: fsck does not call it missing, and a checkout
  fetches it back from the remote (which clears the row).
- ``scrub_slices``: when each fan-out directory of a store was last re-hashed.
- ``quotas``: the most bytes the datasets matching a pattern may hold.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow
from workspace.db.models import OID, Entry

STORE_ID = String(36)


class ObjectPin(Base):
    """``holder`` names one operation of one daemon (``<daemon id>:<operation>``)."""

    __tablename__ = "object_pins"
    __table_args__ = (Index(None, "oid"),)
    holder: Mapped[str] = mapped_column(String(80), primary_key=True)
    oid: Mapped[str] = mapped_column(OID, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrunedVersion(Base):
    """``how``: ``prune``, ``rm`` or ``retention``; ``forced`` when a hold was overridden."""

    __tablename__ = "pruned_versions"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    pruned_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    how: Mapped[str] = mapped_column(String(16))
    forced: Mapped[bool] = mapped_column(default=False)


class DamagedObject(Base):
    """``problem``: ``corrupt`` (bytes quarantined), ``missing``, ``size`` or ``type``."""

    __tablename__ = "damaged_objects"
    store_id: Mapped[str] = mapped_column(STORE_ID, primary_key=True)
    oid: Mapped[str] = mapped_column(OID, primary_key=True)
    problem: Mapped[str] = mapped_column(String(16))
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    quarantined_as: Mapped[str | None] = mapped_column(String(200))


class EvictedObject(Base):
    """An object of store ``store_id`` that may be absent because remote ``remote`` holds it."""

    __tablename__ = "evicted_objects"
    store_id: Mapped[str] = mapped_column(STORE_ID, primary_key=True)
    oid: Mapped[str] = mapped_column(OID, primary_key=True)
    remote: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    evicted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScrubSlice(Base):
    """One fan-out directory (``ab``) of one store: when it was last verified, and what it held."""

    __tablename__ = "scrub_slices"
    store_id: Mapped[str] = mapped_column(STORE_ID, primary_key=True)
    fanout: Mapped[str] = mapped_column(String(2), primary_key=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    objects: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    corrupt: Mapped[int] = mapped_column(Integer)


class Quota(Base):
    __tablename__ = "quotas"
    pattern: Mapped[str] = mapped_column(String(200), primary_key=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# gc, fsck and du look entries up by object id.
Index("ix_entries_oid", Entry.oid)

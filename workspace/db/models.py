"""The tables. Each class says which invariant it carries.

Manifests are stored as *entries* with the version that added them and the
version that removed them (``added_in``/``removed_in``), so the files of any
version, the last change of every file (blame) and the history of one path
are single indexed queries, never a walk over history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow

OID = String(64)


class User(Base):
    """A person or robot; local users are found by their Unix uid."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    uid: Mapped[int | None] = mapped_column(Integer, unique=True)
    is_robot: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Dataset(Base):
    """A named, linearly versioned set of files; ``latest`` is 0 until version 1 exists."""

    __tablename__ = "datasets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    latest: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(8), default="dir")  # "dir", or "file": one entry
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Version(Base):
    """One commit of a dataset: who, when, why, with which code, and the manifest digest."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(80))
    file_count: Mapped[int] = mapped_column(Integer)
    total_bytes: Mapped[int] = mapped_column(BigInteger)
    git_commit: Mapped[str | None] = mapped_column(String(64))
    git_branch: Mapped[str | None] = mapped_column(String(255))
    git_dirty: Mapped[bool | None] = mapped_column(Boolean)


class Entry(Base):
    """A file of a dataset, live from version ``added_in`` until before ``removed_in``.

    A modification ends the old entry and starts a new one in the same
    version, so ``added_in`` of a live entry is the version that last changed it.
    """

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("dataset_id", "path", "added_in"),
        Index(None, "dataset_id", "removed_in"),
        Index(None, "dataset_id", "added_in"),
        # file blame: every column it reads, in path order (no table lookups, no sort)
        Index("ix_entries_by_path_covering", "dataset_id", "path", "added_in", "removed_in",
              "oid", "size"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    path: Mapped[str] = mapped_column(String(4096))
    oid: Mapped[str] = mapped_column(OID, ForeignKey("objects.oid"))
    size: Mapped[int] = mapped_column(BigInteger)
    executable: Mapped[bool] = mapped_column(Boolean, default=False)
    added_in: Mapped[int] = mapped_column(Integer)
    removed_in: Mapped[int | None] = mapped_column(Integer)


class StoredObject(Base):
    """An object known to be durable in the store (referenced by entries; read by gc/fsck)."""

    __tablename__ = "objects"
    oid: Mapped[str] = mapped_column(OID, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Workspace(Base):
    """A directory registered by its owner; the daemon acts in it only for that owner."""

    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    path: Mapped[str] = mapped_column(String(4096), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrackedPath(Base):
    """A file or directory of a workspace bound to a dataset version."""

    __tablename__ = "tracked_paths"
    __table_args__ = (UniqueConstraint("workspace_id", "path"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(4096))
    kind: Mapped[str] = mapped_column(String(8))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    version: Mapped[int] = mapped_column(Integer)


class TrackedFile(Base):
    """What the daemon last put at (or verified in) a tracked path: git's index, in short.

    ``status`` compares a file's (inode, size, mtime, ctime) with this row and
    hashes only on a mismatch.
    """

    __tablename__ = "tracked_files"
    tracked_path_id: Mapped[int] = mapped_column(
        ForeignKey("tracked_paths.id", ondelete="CASCADE"), primary_key=True
    )
    relpath: Mapped[str] = mapped_column(String(4096), primary_key=True)
    oid: Mapped[str] = mapped_column(OID)
    size: Mapped[int] = mapped_column(BigInteger)
    executable: Mapped[bool] = mapped_column(Boolean, default=False)
    ino: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    ctime_ns: Mapped[int] = mapped_column(BigInteger)


class AuditEvent(Base):
    """One append-only row per state change, chained by hash (``prev_hash`` -> ``hash``)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index(None, "dataset", "id"),
        Index(None, "actor", "id"),
        Index(None, "at"),
        Index(None, "actor", "at", "id"),  # `ws audit --user U --since T`: one range read
        Index(None, "dataset", "at", "id"),
        Index("uq_audit_events_prev_hash", "prev_hash", unique=True),  # the chain cannot fork
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int | None] = mapped_column(Integer)
    workspace: Mapped[str | None] = mapped_column(String(4096))
    path: Mapped[str | None] = mapped_column(String(4096))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# Tables of other concepts live in their own modules; importing them here puts them
# in Base.metadata, which Alembic and the tests see.
from workspace.db import (  # noqa: E402, F401
    models_acl,
    models_aliases,
    models_auth,
    models_locks,
    models_maintenance,
    models_policy,
    models_remote,
)

"""Queries on the store's health: damaged and evicted objects, and the scrub's progress."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.orm import Session

from workspace.db.models import Entry, TrackedFile, TrackedPath, User, Workspace
from workspace.db.models_maintenance import DamagedObject, EvictedObject, ScrubSlice


def damaged(session: Session, store_id: str) -> Sequence[DamagedObject]:
    stmt = select(DamagedObject).where(DamagedObject.store_id == store_id)
    return session.scalars(stmt.order_by(DamagedObject.oid)).all()


def mark_damaged(session: Session, *, store_id: str, oid: str, problem: str,
                 quarantined_as: str | None, at: datetime) -> bool:
    """Record the damage; False (nothing written) if the object was already known damaged."""
    if session.get(DamagedObject, (store_id, oid)) is not None:
        return False
    session.add(DamagedObject(store_id=store_id, oid=oid, problem=problem, found_at=at,
                              quarantined_as=quarantined_as))
    session.flush()
    return True


def clear_damaged(session: Session, store_id: str, oid: str) -> None:
    session.execute(delete(DamagedObject).where(DamagedObject.store_id == store_id,
                                                DamagedObject.oid == oid))


def damaged_files(session: Session, store_id: str, dataset_id: int,
                  number: int) -> Sequence[Any]:
    """(path, oid, problem) of the damaged objects in version ``number`` of a dataset.

    Asked before every ``ls``, ``get`` and ``blame``, and nearly always of a store with
    no damage: that is one probe of the primary key, where the join read every entry of
    the version (30 ms for 100,000 files) to find none."""
    if not _any_damaged(session, store_id):
        return []
    stmt = (select(Entry.path, Entry.oid, DamagedObject.problem)
            .join(DamagedObject, and_(DamagedObject.oid == Entry.oid,
                                      DamagedObject.store_id == store_id))
            .where(Entry.dataset_id == dataset_id, Entry.added_in <= number,
                   or_(Entry.removed_in.is_(None), Entry.removed_in > number))
            .order_by(Entry.path))
    return session.execute(stmt).all()


def _any_damaged(session: Session, store_id: str) -> bool:
    stmt = select(DamagedObject.oid).where(DamagedObject.store_id == store_id).limit(1)
    return session.scalar(stmt) is not None


def damaged_ranges(session: Session, store_id: str,
                   dataset_id: int | None = None) -> Sequence[Any]:
    """(dataset_id, added_in, removed_in, path, oid) of entries holding a damaged object."""
    stmt = (select(Entry.dataset_id, Entry.added_in, Entry.removed_in, Entry.path, Entry.oid)
            .join(DamagedObject, and_(DamagedObject.oid == Entry.oid,
                                      DamagedObject.store_id == store_id)))
    if dataset_id is not None:
        stmt = stmt.where(Entry.dataset_id == dataset_id)
    return session.execute(stmt).all()


def add_evicted(session: Session, store_id: str, remote: str, sizes: dict[str, int],
                at: datetime) -> None:
    """Record objects about to be evicted (a row already there is replaced)."""
    if not sizes:
        return
    clear_evicted(session, store_id, sizes)
    session.connection().execute(insert(EvictedObject), [
        {"store_id": store_id, "oid": oid, "remote": remote, "size": size, "evicted_at": at}
        for oid, size in sizes.items()])


def evicted_among(session: Session, store_id: str, oids: Collection[str]) -> dict[str, str]:
    """Of ``oids``, those recorded evicted from this store: oid -> remote name."""
    found: dict[str, str] = {}
    wanted = list(oids)
    for start in range(0, len(wanted), 500):
        stmt = select(EvictedObject.oid, EvictedObject.remote).where(
            EvictedObject.store_id == store_id, EvictedObject.oid.in_(wanted[start:start + 500]))
        found.update((oid, remote) for oid, remote in session.execute(stmt))
    return found


def clear_evicted(session: Session, store_id: str, oids: Collection[str]) -> None:
    wanted = list(oids)
    for start in range(0, len(wanted), 500):
        session.execute(delete(EvictedObject).where(
            EvictedObject.store_id == store_id, EvictedObject.oid.in_(wanted[start:start + 500])))


def scrub_slices(session: Session, store_id: str) -> dict[str, ScrubSlice]:
    stmt = select(ScrubSlice).where(ScrubSlice.store_id == store_id)
    return {row.fanout: row for row in session.scalars(stmt)}


def delete_slices(session: Session, store_id: str, fanouts: Collection[str]) -> None:
    session.execute(delete(ScrubSlice).where(ScrubSlice.store_id == store_id,
                                             ScrubSlice.fanout.in_(list(fanouts))))


def copies_of(session: Session, oid: str) -> Sequence[Any]:
    """Where workspaces last held ``oid``: (root, owner uid, tracked path, kind, relpath)."""
    stmt = (select(Workspace.path, User.uid, TrackedPath.path, TrackedPath.kind,
                   TrackedFile.relpath)
            .join(TrackedPath, TrackedPath.id == TrackedFile.tracked_path_id)
            .join(Workspace, Workspace.id == TrackedPath.workspace_id)
            .join(User, User.id == Workspace.owner_id)
            .where(TrackedFile.oid == oid).order_by(Workspace.path, TrackedFile.relpath))
    return session.execute(stmt).all()


def replace_slices(session: Session, store_id: str,
                   verified: dict[str, tuple[int, int, int]], at: datetime) -> None:
    """Record many slices at once: one delete, one multi-row insert."""
    if not verified:
        return
    delete_slices(session, store_id, list(verified))
    session.connection().execute(insert(ScrubSlice), [
        {"store_id": store_id, "fanout": fanout, "verified_at": at, "objects": objects,
         "bytes": size, "corrupt": corrupt}
        for fanout, (objects, size, corrupt) in verified.items()])

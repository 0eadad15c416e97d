"""Queries of the store's upkeep: references by object, pins, pruned versions."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from workspace.db.models import (
    Dataset,
    Entry,
    StoredObject,
    Tag,
    TrackedPath,
    User,
    Version,
    Workspace,
)
from workspace.db.models_maintenance import ObjectPin, PrunedVersion

_CHUNK = 500


def fanout_bounds(fanout: str) -> tuple[str, str]:
    """The oid range ``[lo, hi)`` of one fan-out directory (``ab`` -> ``ab``, ``ac``)."""
    value = int(fanout, 16)
    return fanout, (f"{value + 1:02x}" if value < 255 else "g")


def entry_ranges(session: Session, lo: str, hi: str,
                 only: Collection[int] | None = None) -> Iterator[Any]:
    """(oid, dataset_id, added_in, removed_in) of every entry whose oid is in ``[lo, hi)``
    (of the datasets ``only``, when given)."""
    stmt = select(Entry.oid, Entry.dataset_id, Entry.added_in, Entry.removed_in).where(
        Entry.oid >= lo, Entry.oid < hi)
    if only is not None:
        stmt = stmt.where(Entry.dataset_id.in_(sorted(only)))
    yield from session.execute(stmt)


def sizes_between(session: Session, lo: str, hi: str, *,
                  without: Collection[int]) -> dict[str, int]:
    """oid -> size of the entries in ``[lo, hi)`` of datasets not in ``without`` (plain rows)."""
    stmt = select(Entry.oid, Entry.size).where(Entry.oid >= lo, Entry.oid < hi)
    if without:
        stmt = stmt.where(Entry.dataset_id.not_in(sorted(without)))
    return {row[0]: row[1] for row in session.connection().execute(stmt)}


def oids_between(session: Session, lo: str, hi: str, *, without: Collection[int]) -> set[str]:
    """The distinct object ids in ``[lo, hi)`` held by entries of datasets not in ``without``.

    Plain driver rows: gc reads a million of these, and ORM rows cost several times more.
    """
    stmt = select(Entry.oid).where(Entry.oid >= lo, Entry.oid < hi)
    if without:
        stmt = stmt.where(Entry.dataset_id.not_in(sorted(without)))
    return {row[0] for row in session.connection().execute(stmt)}


def entry_ranges_of(session: Session, oids: Collection[str]) -> list[Any]:
    """The same rows for just these objects."""
    wanted, found = sorted(oids), list[Any]()
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(Entry.oid, Entry.dataset_id, Entry.added_in, Entry.removed_in).where(
            Entry.oid.in_(wanted[start:start + _CHUNK]))
        found.extend(session.execute(stmt))
    return found


def all_entry_ranges(session: Session, dataset_ids: Collection[int] | None = None) -> Iterator[Any]:
    """(oid, size, dataset_id, added_in, removed_in) of every entry (of these datasets)."""
    stmt = select(Entry.oid, Entry.size, Entry.dataset_id, Entry.added_in, Entry.removed_in)
    if dataset_ids is not None:
        stmt = stmt.where(Entry.dataset_id.in_(list(dataset_ids)))
    yield from session.execute(stmt.execution_options(yield_per=10_000))


def latest_numbers(session: Session) -> dict[int, int]:
    return {row[0]: row[1] for row in session.execute(select(Dataset.id, Dataset.latest))}


def dataset_ids_by_name(session: Session) -> dict[str, int]:
    return {row[0]: row[1] for row in session.execute(select(Dataset.name, Dataset.id))}


def pruned_numbers(session: Session, dataset_id: int | None = None) -> dict[int, list[int]]:
    """dataset id -> its pruned version numbers, ascending."""
    stmt = select(PrunedVersion.dataset_id, PrunedVersion.number).order_by(
        PrunedVersion.dataset_id, PrunedVersion.number)
    if dataset_id is not None:
        stmt = stmt.where(PrunedVersion.dataset_id == dataset_id)
    found: dict[int, list[int]] = {}
    for ds, number in session.execute(stmt):
        found.setdefault(ds, []).append(number)
    return found


def pruned_info(session: Session, dataset_id: int) -> dict[int, dict[str, Any]]:
    """number -> {"by", "at", "how", "forced"} for the dataset's pruned versions."""
    stmt = (select(PrunedVersion, User.name).join(User, User.id == PrunedVersion.pruned_by)
            .where(PrunedVersion.dataset_id == dataset_id))
    return {row.number: {"by": name, "at": row.pruned_at, "how": row.how, "forced": row.forced}
            for row, name in session.execute(stmt)}


def mark_pruned(session: Session, *, dataset_id: int, numbers: Iterable[int], user_id: int,
                how: str, forced: bool, at: datetime) -> None:
    rows = [{"dataset_id": dataset_id, "number": n, "pruned_by": user_id, "how": how,
             "forced": forced, "pruned_at": at} for n in numbers]
    if rows:
        session.connection().execute(insert(PrunedVersion), rows)


def version_sizes(session: Session) -> Iterator[tuple[int, int, str, int]]:
    """(dataset id, number, author name, bytes) of every version."""
    stmt = select(Version.dataset_id, Version.number, User.name, Version.total_bytes).join(
        User, User.id == Version.author_id)
    for row in session.execute(stmt):
        yield row[0], row[1], row[2], row[3]


def versions_of(session: Session, dataset_id: int) -> Sequence[Version]:
    stmt = select(Version).where(Version.dataset_id == dataset_id).order_by(Version.number)
    return session.scalars(stmt).all()


def tagged_numbers(session: Session, dataset_id: int) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for number, name in session.execute(
            select(Tag.version, Tag.name).where(Tag.dataset_id == dataset_id)):
        found.setdefault(number, []).append(name)
    return found


def holders(session: Session, dataset_id: int) -> dict[int, list[str]]:
    """version -> the workspace paths (``/abs/root/path``) that have it checked out."""
    stmt = (select(TrackedPath.version, Workspace.path, TrackedPath.path)
            .join(Workspace, Workspace.id == TrackedPath.workspace_id)
            .where(TrackedPath.dataset_id == dataset_id))
    found: dict[int, list[str]] = {}
    for number, root, path in session.execute(stmt):
        found.setdefault(number, []).append(f"{root}/{path}")
    return found


def object_sizes(session: Session, oids: Collection[str]) -> dict[str, int]:
    wanted, found = sorted(oids), dict[str, int]()
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(StoredObject.oid, StoredObject.size).where(
            StoredObject.oid.in_(wanted[start:start + _CHUNK]))
        found.update((row[0], row[1]) for row in session.execute(stmt))
    return found


def add_pins(session: Session, holder: str, oids: Iterable[str]) -> None:
    rows = [{"holder": holder, "oid": oid} for oid in sorted(set(oids))]
    if rows:
        session.connection().execute(insert(ObjectPin), rows)


def drop_pins(session: Session, holder: str) -> None:
    session.execute(delete(ObjectPin).where(ObjectPin.holder == holder))


def drop_pins_of(session: Session, holder_prefix: str) -> int:
    """Remove the pins of every holder starting with ``holder_prefix`` (a crashed run's)."""
    result = session.execute(delete(ObjectPin).where(
        ObjectPin.holder.startswith(holder_prefix, autoescape=True)))
    return int(getattr(result, "rowcount", 0) or 0)


def pinned_among(session: Session, oids: Collection[str]) -> set[str]:
    wanted, found = sorted(oids), set[str]()
    for start in range(0, len(wanted), _CHUNK):
        found.update(session.scalars(select(ObjectPin.oid).where(
            ObjectPin.oid.in_(wanted[start:start + _CHUNK]))))
    return found


def pin_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ObjectPin)) or 0


def pruned_one(session: Session, dataset_id: int, number: int) -> dict[str, Any] | None:
    stmt = (select(PrunedVersion, User.name).join(User, User.id == PrunedVersion.pruned_by)
            .where(PrunedVersion.dataset_id == dataset_id, PrunedVersion.number == number))
    found = session.execute(stmt).first()
    if found is None:
        return None
    row, name = found
    return {"by": name, "at": row.pruned_at, "how": row.how, "forced": row.forced}


def latest_kept(session: Session, dataset_id: int) -> int | None:
    """The newest version of the dataset that is not pruned (None: all are)."""
    pruned = select(PrunedVersion.number).where(PrunedVersion.dataset_id == dataset_id)
    stmt = select(func.max(Version.number)).where(Version.dataset_id == dataset_id,
                                                  Version.number.not_in(pruned))
    return session.scalar(stmt)


def oids_overlapping(session: Session, dataset_id: int, lo: int, hi: int) -> Sequence[str]:
    """Objects of the dataset's entries live at some version in ``[lo, hi]``."""
    stmt = select(Entry.oid).distinct().where(
        Entry.dataset_id == dataset_id, Entry.added_in <= hi,
        (Entry.removed_in.is_(None)) | (Entry.removed_in > lo))
    return session.scalars(stmt).all()

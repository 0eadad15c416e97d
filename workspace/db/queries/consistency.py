"""The database's references checked against each other (``ws fsck``).

- every version's file count and size agree with its entries;
- versions are numbered 1..latest without a gap;
- every entry's size agrees with its object's recorded size;
- tags and tracked paths name versions that exist.
Each check is one or two grouped queries, not one per version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workspace.db.models import Dataset, Entry, StoredObject, Tag, TrackedPath, Version


def all_checks(session: Session) -> list[str]:
    return [*_version_totals(session), *_numbering(session), *_object_sizes(session),
            *_dangling(session)]


def _version_totals(session: Session) -> list[str]:
    names = {row[0]: row[1] for row in session.execute(select(Dataset.id, Dataset.name))}
    added = _deltas(session, Entry.added_in)
    removed = _deltas(session, Entry.removed_in)
    problems = []
    running: dict[int, tuple[int, int]] = {}
    stmt = select(Version.dataset_id, Version.number, Version.file_count,
                  Version.total_bytes).order_by(Version.dataset_id, Version.number)
    for ds, number, files, size in session.execute(stmt):
        count, total = running.get(ds, (0, 0))
        plus, minus = added.get((ds, number), (0, 0)), removed.get((ds, number), (0, 0))
        count, total = count + plus[0] - minus[0], total + plus[1] - minus[1]
        running[ds] = (count, total)
        if (count, total) != (files, size):
            problems.append(f"{names.get(ds)}@{number} records {files} files, {size} bytes, "
                            f"but its entries hold {count} files, {total} bytes")
    return problems


def _deltas(session: Session, column: Any) -> dict[tuple[int, int], tuple[int, int]]:
    stmt = (select(Entry.dataset_id, column, func.count(), func.coalesce(func.sum(Entry.size), 0))
            .where(column.is_not(None)).group_by(Entry.dataset_id, column))
    return {(ds, n): (c, int(b)) for ds, n, c, b in session.execute(stmt)}


def _numbering(session: Session) -> list[str]:
    stmt = (select(Dataset.name, Dataset.latest, func.count(Version.id), func.max(Version.number))
            .outerjoin(Version, Version.dataset_id == Dataset.id).group_by(Dataset.id))
    return [f"{name} has latest {latest} but {count} versions numbered up to {top}"
            for name, latest, count, top in session.execute(stmt)
            if not (count == latest and (top or 0) == latest)]


def _object_sizes(session: Session) -> list[str]:
    stmt = (select(Entry.oid, Entry.size, StoredObject.size).distinct()
            .join(StoredObject, StoredObject.oid == Entry.oid)
            .where(Entry.size != StoredObject.size).limit(100))
    return [f"object {oid} is recorded as {known} bytes but an entry says {size}"
            for oid, size, known in session.execute(stmt)]


def _dangling(session: Session) -> list[str]:
    problems = []
    tags = (select(Dataset.name, Tag.name, Tag.version).join(Dataset, Dataset.id == Tag.dataset_id)
            .where(Tag.version > Dataset.latest))
    problems += [f"tag {ds}@{tag} names version {n}, which does not exist"
                 for ds, tag, n in session.execute(tags)]
    tracked = (select(Dataset.name, TrackedPath.path, TrackedPath.version)
               .join(Dataset, Dataset.id == TrackedPath.dataset_id)
               .where(TrackedPath.version > Dataset.latest))
    problems += [f"tracked path {path} holds {ds}@{n}, which does not exist"
                 for ds, path, n in session.execute(tracked)]
    return problems

"""``ws du``: what the store holds, per dataset or per committing user.

Three numbers per group, all over *kept* (not pruned) versions:

- ``logical``: the sum of the versions' sizes, as if every version were a copy;
- ``physical``: each object the group references, counted once;
- ``unique``: the objects only this group references, which is what deleting
  it (and running gc) would free, unless a workspace still links them.

One pass over the entries; memory grows with the number of distinct objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from workspace.db.queries import upkeep as q
from workspace.maintenance.references import Liveness

By = Literal["dataset", "user"]


@dataclass(slots=True)
class Usage:
    name: str
    versions: int = 0
    logical: int = 0
    physical: int = 0
    unique: int = 0


def disk_usage(session: Session, *, by: By, include: Callable[[str], bool]) -> dict[str, Any]:
    """Usage of the datasets ``include`` accepts, grouped ``by`` dataset or user."""
    names = {ds: name for name, ds in q.dataset_ids_by_name(session).items()}
    liveness = Liveness.load(session)
    authors = {(ds, n): (author, size) for ds, n, author, size in q.version_sizes(session)}
    group_of = _grouping(by, names, authors)
    groups: dict[str, Usage] = {}
    for (ds, number), (_, size) in authors.items():
        if include(names[ds]) and liveness.live(ds, number, number + 1):
            usage = groups.setdefault(group_of(ds, number), Usage(group_of(ds, number)))
            usage.versions += 1
            usage.logical += size
    sizes, owner, members = _objects(session, liveness, group_of, set(groups))
    for group, oids in members.items():
        groups[group].physical = sum(sizes[oid] for oid in oids)
        groups[group].unique = sum(sizes[oid] for oid in oids if owner[oid] == group)
    return {"by": by, "groups": sorted(groups.values(), key=lambda u: u.name),
            "store": {"objects": len(sizes), "bytes": sum(sizes.values())}}


def physical_bytes(session: Session, dataset_ids: set[int]) -> int:
    """Bytes of the distinct objects the kept versions of these datasets reference."""
    if not dataset_ids:
        return 0
    liveness = Liveness.load(session)
    sizes: dict[str, int] = {}
    for row in q.all_entry_ranges(session, dataset_ids):
        if liveness.live(row.dataset_id, row.added_in, row.removed_in):
            sizes[row.oid] = row.size
    return sum(sizes.values())


def _grouping(by: By, names: dict[int, str],
              authors: dict[tuple[int, int], tuple[str, int]]) -> Callable[[int, int], str]:
    if by == "dataset":
        return lambda ds, number: names[ds]
    return lambda ds, number: authors.get((ds, number), ("?", 0))[0]


def _objects(session: Session, liveness: Liveness, group_of: Callable[[int, int], str],
             wanted: set[str]) -> tuple[dict[str, int], dict[str, str | None],
                                        dict[str, set[str]]]:
    """Every live object's size, its one group (None: several), and the wanted groups' objects.

    A user's group is the author of the version that added the entry.
    """
    sizes: dict[str, int] = {}
    owner: dict[str, str | None] = {}
    members: dict[str, set[str]] = {group: set() for group in wanted}
    for row in q.all_entry_ranges(session):
        if not liveness.live(row.dataset_id, row.added_in, row.removed_in):
            continue
        group = group_of(row.dataset_id, row.added_in)
        sizes[row.oid] = row.size
        if owner.setdefault(row.oid, group) != group:
            owner[row.oid] = None
        if group in members:
            members[group].add(row.oid)
    return sizes, owner, members

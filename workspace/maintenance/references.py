"""Which objects kept versions reference, taking pruned versions into account.

An entry is live from ``added_in`` to before ``removed_in`` (or the dataset's
latest version), and that range is shared by consecutive versions. Pruning a
version does not touch entries; an entry's object is referenced while **some
version of its range is not pruned**. A dataset with nothing pruned (the
usual case) needs no look at its numbers at all.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection

from sqlalchemy.orm import Session

from workspace.db.queries import upkeep as q


class Liveness:
    """A snapshot of pruned versions and latest numbers, to decide liveness per entry."""

    def __init__(self, pruned: dict[int, list[int]], latest: dict[int, int]) -> None:
        self._pruned = pruned
        self._latest = latest

    @classmethod
    def load(cls, session: Session) -> Liveness:
        return cls(q.pruned_numbers(session), q.latest_numbers(session))

    def live(self, dataset_id: int, added_in: int, removed_in: int | None) -> bool:
        """True if a version in ``[added_in, removed_in)`` of the dataset is kept.

        Safe on a stale snapshot: versions are never un-pruned, so an old list
        of pruned versions can only call more entries live, and an entry newer
        than the snapshot's latest version counts as live.
        """
        pruned = self._pruned.get(dataset_id)
        if not pruned:
            return True
        end = removed_in if removed_in is not None else max(
            self._latest.get(dataset_id, 0), added_in) + 1
        inside = bisect_left(pruned, end) - bisect_left(pruned, added_in)
        return inside < end - added_in

    def datasets_with_pruned(self) -> set[int]:
        return {dataset for dataset, numbers in self._pruned.items() if numbers}

    def kept_numbers(self, dataset_id: int, added_in: int, removed_in: int | None) -> list[int]:
        """The kept versions in the entry's range (for damage reports; ranges are short)."""
        end = removed_in if removed_in is not None else self._latest.get(dataset_id, 0) + 1
        pruned = set(self._pruned.get(dataset_id, ()))
        return [n for n in range(added_in, end) if n not in pruned]


def referenced_in_fanouts(session: Session, liveness: Liveness, first: str,
                          last: str) -> set[str]:
    """The objects of fan-out directories ``first``..``last`` that some kept version references."""
    lo, hi = first, q.fanout_bounds(last)[1]
    pruned = liveness.datasets_with_pruned()
    found = q.oids_between(session, lo, hi, without=pruned)  # nothing pruned: all live
    if pruned:
        found.update(row.oid for row in q.entry_ranges(session, lo, hi, only=pruned)
                     if liveness.live(row.dataset_id, row.added_in, row.removed_in))
    return found


def still_referenced(session: Session, oids: Collection[str], liveness: Liveness, *,
                     pin_rows: bool = True) -> set[str]:
    """Of ``oids``, those pinned in the database or referenced by a kept version, now.

    Pin rows exist only where several daemons share the database (``pin_rows``).
    Pins are read before references: a version commits its entries and drops
    its pins in one transaction, so whichever side of that commit this lands
    on, the object is seen (as pinned, or as referenced).
    """
    keep = q.pinned_among(session, oids) if pin_rows else set()
    rest = [oid for oid in oids if oid not in keep]
    if rest:
        keep.update(row.oid for row in q.entry_ranges_of(session, rest)
                    if liveness.live(row.dataset_id, row.added_in, row.removed_in))
    return keep


def referenced_sizes(session: Session, liveness: Liveness, first: str,
                     last: str) -> dict[str, int]:
    """The referenced objects of fan-outs ``first``..``last`` with the sizes entries record."""
    lo, hi = first, q.fanout_bounds(last)[1]
    pruned = liveness.datasets_with_pruned()
    found = q.sizes_between(session, lo, hi, without=pruned)
    if pruned:
        live = {row.oid for row in q.entry_ranges(session, lo, hi, only=pruned)
                if liveness.live(row.dataset_id, row.added_in, row.removed_in)}
        found.update(q.object_sizes(session, live))
    return found

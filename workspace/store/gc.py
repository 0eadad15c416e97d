"""Sweeping the store: unlink the objects nothing references, one fan-out directory at a time.

The store does not know what versions reference; the caller (``maintenance/gc.py``)
says it through two callbacks, and this module keeps the rules that make an
unlink safe (docs/design.md, "Garbage collection"):

1. ``snapshot(first, last)``: the referenced ids of a group of fan-outs, read
   without any lock. Everything else in those directories is a *candidate*.
2. A candidate is skipped, without a lock, if it is pinned, has more than
   one link (a workspace still holds it: a user's checkout never loses a
   file), or changed (``ctime``: published, linked, chmod-ed) within the grace
   period.
3. Under the candidates' fan-out locks (the ones every pinning operation
   takes; gc takes a group's in ascending order): drop the candidates pinned
   meanwhile, then ask ``recheck`` which are referenced or pinned in the
   database *now*, then ``lstat`` each survivor once more and ``unlinkat`` it.
   In-memory pins are read before the database, so an operation whose version
   commits in between is seen one way or the other.

Memory is bounded by one group of fan-out directories (1/16 of the store's ids).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

from workspace.store.hashing import is_oid
from workspace.store.objects import ObjectStore
from workspace.store.pins import FANOUTS

Snapshot = Callable[[str, str], set[str]]  # (first fan-out, last fan-out) -> referenced ids
GROUP = 16  # fan-outs per snapshot query: 1/16 of the store's ids in memory at most
Recheck = Callable[[list[str]], set[str]]
Progress = Callable[[int, int], None]  # (fan-outs done, objects examined)


@dataclass(slots=True)
class SweepReport:
    """What one sweep saw and did (or would do, on a dry run)."""

    objects: int = 0
    removed: int = 0
    removed_bytes: int = 0
    linked: int = 0
    young: int = 0
    pinned: int = 0
    tmp_removed: int = 0
    tmp_bytes: int = 0


@dataclass(frozen=True, slots=True)
class _Candidate:
    name: str
    size: int


class Sweeper:
    """One gc pass over a store; ``dry_run`` decides everything but unlinks nothing."""

    def __init__(self, store: ObjectStore, *, grace: float, dry_run: bool,
                 now: float | None = None) -> None:
        self._store = store
        self._layout = store.layout
        self._cutoff = (now if now is not None else time.time()) - grace
        self._dry_run = dry_run
        self.report = SweepReport()

    def sweep(self, snapshot: Snapshot, recheck: Recheck,
              progress: Progress = lambda done, seen: None) -> SweepReport:
        for start in range(0, FANOUTS, GROUP):
            fanouts = [f"{index:02x}" for index in range(start, start + GROUP)]
            listed = {fanout: self._list(fanout) for fanout in fanouts}
            if any(listed.values()):
                self._sweep_group(listed, snapshot(fanouts[0], fanouts[-1]), recheck)
            progress(start + GROUP, self.report.objects)
        if not self._dry_run:
            self.report.tmp_removed, self.report.tmp_bytes = self._layout.sweep_temps(
                self._cutoff)
        return self.report

    def _sweep_group(self, listed: dict[str, list[str]], referenced: set[str],
                     recheck: Recheck) -> None:
        candidates = []
        for fanout, names in listed.items():
            self.report.objects += len(names)
            for name in names:
                oid = fanout + name
                if oid in referenced or not is_oid(oid):
                    continue  # a stray name is fsck's to report, not gc's to delete
                found = self._candidate(oid)
                if found is not None:
                    candidates.append(found)
        if candidates:
            self._remove_locked(sorted({c.name[:2] for c in candidates}), candidates, recheck)

    def _candidate(self, oid: str) -> _Candidate | None:
        """A removable-looking object, or None (counting why it stays)."""
        if self._store.pins.is_pinned(oid):
            self.report.pinned += 1
            return None
        st = self._layout.lstat(oid)
        if st is None or not self._removable(st):
            return None
        return _Candidate(oid, st.st_size)

    def _removable(self, st: os.stat_result) -> bool:
        if not stat.S_ISREG(st.st_mode):
            return False  # not ours to judge: fsck reports it
        if st.st_nlink > 1:
            self.report.linked += 1
            return False
        if st.st_ctime >= self._cutoff:
            self.report.young += 1
            return False
        return True

    def _remove_locked(self, fanouts: list[str], candidates: list[_Candidate],
                       recheck: Recheck) -> None:
        with ExitStack() as locks:
            for fanout in fanouts:  # always in ascending order: nothing else takes two
                locks.enter_context(self._store.pins.fanout_lock(fanout))
            unpinned = [c for c in candidates if not self._still_pinned(c.name)]
            keep = recheck([c.name for c in unpinned]) if unpinned else set()
            for candidate in unpinned:
                if candidate.name not in keep:
                    self._unlink(candidate)

    def _still_pinned(self, oid: str) -> bool:
        if self._store.pins.is_pinned(oid):
            self.report.pinned += 1
            return True
        return False

    def _unlink(self, candidate: _Candidate) -> None:
        st = self._layout.lstat(candidate.name)
        if st is None or not self._removable(st):
            return
        if not self._dry_run:
            os.unlink(self._layout.relpath(candidate.name), dir_fd=self._layout.objects_fd)
        self.report.removed += 1
        self.report.removed_bytes += st.st_size

    def _list(self, fanout: str) -> list[str]:
        return list_fanout(self._layout.objects_fd, fanout)


def list_fanout(objects_fd: int, fanout: str) -> list[str]:
    """The names in ``objects/<fanout>/`` (the object ids without their first two digits)."""
    try:
        fd = os.open(fanout, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                     dir_fd=objects_fd)
    except FileNotFoundError:
        return []
    try:
        with os.scandir(fd) as entries:
            return [entry.name for entry in entries]
    finally:
        os.close(fd)

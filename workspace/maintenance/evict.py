"""``ws gc --evict``: drop local objects that the default remote holds, to free disk.

The store becomes a cache of the remote: an evicted object is fetched back
(verified) when a checkout needs it (``remotes/fetch.py``). An object is
evicted only if, at the moment of the unlink:

1. some kept version references it (unreferenced objects are gc's to delete);
2. the default remote holds it, with the same size: its listing of loose
   objects and published pack indexes, read at the start of the run (a remote
   only ever gains objects: pushes never delete);
3. no workspace links it (exactly one link: nobody's checkout loses a file);
4. no running operation has pinned it, in memory or (PostgreSQL) as a row.

Rules 3 and 4 are re-checked under the object's fan-out lock right before
``unlinkat``, as gc does (``store/gc.py``); a checkout pins each object and
looks whether it exists under the same lock (``workspaces/sync.py``), so it
either sees the object gone (and fetches it) or has it pinned (and it is kept).
The ``evicted_objects`` row is committed before the unlink: an evicted object
is always known as such, so fsck does not call it missing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from workspace.db.queries import health as hq
from workspace.db.queries import remotes as rq
from workspace.db.queries import upkeep as q
from workspace.errors import NotFound
from workspace.remotes import inventory
from workspace.remotes.backend import RemoteOptions, open_backend
from workspace.remotes.url import parse_url
from workspace.store.gc import GROUP, Snapshot, list_fanout
from workspace.store.pins import FANOUTS
from workspace.workspaces.context import ServiceContext

Progress = Callable[[int, int], None]  # (fan-outs done, bytes evicted)


@dataclass(slots=True)
class EvictReport:
    """What one eviction saw and did (or would do, on a dry run)."""

    remote: str
    objects: int = 0  # referenced objects examined
    evicted: int = 0
    evicted_bytes: int = 0
    linked: int = 0  # kept: a workspace links them
    pinned: int = 0  # kept: a running operation uses them
    not_on_remote: int = 0  # kept: the remote lacks them (push first)


class Evictor:
    """One eviction pass; :meth:`open` reads the default remote's inventory first."""

    def __init__(self, ctx: ServiceContext, remote: str, held: dict[str, int], *,
                 dry_run: bool) -> None:
        self._ctx = ctx
        self._held = held
        self._dry_run = dry_run
        self.report = EvictReport(remote)

    @classmethod
    def open(cls, ctx: ServiceContext, options: RemoteOptions, *, dry_run: bool) -> Evictor:
        """The default remote and what it holds (oid -> size); NotFound without one."""
        with ctx.db.read() as session:
            remote = rq.default(session)
            name, url = (remote.name, remote.url) if remote else (None, None)
        if name is None or url is None:
            raise NotFound("gc --evict needs a default remote, and none is configured",
                           hint="an admin adds one with `ws remote add NAME URL --default`, "
                           "then `ws push --all` sends the objects there")
        held = inventory.objects(open_backend(parse_url(url), options), options.concurrency)
        sizes = dict(held.loose)
        sizes.update((oid, place.size) for oid, place in held.packed.items())
        return cls(ctx, name, sizes, dry_run=dry_run)

    def run(self, snapshot: Snapshot, progress: Progress = lambda done, size: None,
            ) -> EvictReport:
        """``snapshot(first, last)``: the objects kept versions reference in those fan-outs."""
        layout = self._ctx.store.layout
        for start in range(0, FANOUTS, GROUP):
            fanouts = [f"{index:02x}" for index in range(start, start + GROUP)]
            listed = {fanout: list_fanout(layout.objects_fd, fanout) for fanout in fanouts}
            if any(listed.values()):
                referenced = snapshot(fanouts[0], fanouts[-1])
                for fanout, names in listed.items():
                    chosen = self._candidates(fanout, names, referenced)
                    if chosen:
                        self._evict_locked(fanout, chosen)
            progress(start + GROUP, self.report.evicted_bytes)
        return self.report

    def _candidates(self, fanout: str, names: list[str], referenced: set[str]) -> list[str]:
        """Referenced objects of one fan-out that look evictable (counting why others stay)."""
        chosen = []
        for name in names:
            oid = fanout + name
            if oid not in referenced:
                continue
            self.report.objects += 1
            if self._why_kept(oid) is None:
                chosen.append(oid)
        return chosen

    def _why_kept(self, oid: str) -> str | None:
        """None when ``oid`` may go now; else the reason, counted."""
        st = self._ctx.store.layout.lstat(oid)
        if st is None or not stat.S_ISREG(st.st_mode):
            return "gone"  # removed meanwhile, or not ours to judge (fsck reports it)
        reason = None
        if self._held.get(oid) != st.st_size:
            reason, self.report.not_on_remote = "remote", self.report.not_on_remote + 1
        elif st.st_nlink > 1:
            reason, self.report.linked = "linked", self.report.linked + 1
        elif self._ctx.store.pins.is_pinned(oid):
            reason, self.report.pinned = "pinned", self.report.pinned + 1
        return reason

    def _evict_locked(self, fanout: str, oids: list[str]) -> None:
        """Under the fan-out lock: re-check pins (memory, then rows) and links, record, unlink."""
        store = self._ctx.store
        with store.pins.fanout_lock(fanout):
            rows: set[str] = set()
            if not self._ctx.db.is_sqlite:
                with self._ctx.db.read() as session:
                    rows = q.pinned_among(session, oids)
            self.report.pinned += len(rows)
            going = {oid: self._held[oid] for oid in oids
                     if oid not in rows and self._why_kept(oid) is None}
            if going and not self._dry_run:
                with self._ctx.db.write() as session:
                    hq.add_evicted(session, store.store_id, self.report.remote, going,
                                   datetime.now(UTC))
                for oid in going:
                    os.unlink(store.layout.relpath(oid), dir_fd=store.layout.objects_fd)
            self.report.evicted += len(going)
            self.report.evicted_bytes += sum(going.values())

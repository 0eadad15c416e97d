"""The scrub: re-hash a slice of the store every ``scrub_interval``, so that every object
is verified at least once per ``scrub_period``.

A slice is the fan-out directories verified longest ago (never-verified
first), ``ceil(256 * interval / period)`` of them per run. A corrupt object
found is quarantined and recorded damaged, as by ``ws fsck --read-data``; each
run is an audit event, and ``ws fsck --json`` shows when each slice was last
verified. The first run comes one interval after start unless a run is
already overdue; a run is skipped while gc or fsck is running.
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import UTC, datetime
from typing import Any

from workspace.audit import Action, record
from workspace.db.queries import health as hq
from workspace.errors import Conflict
from workspace.maintenance.gc import exclusive
from workspace.maintenance.verification import mark_damaged, record_slices
from workspace.store.fsck import Rehasher
from workspace.store.gc import list_fanout
from workspace.store.pins import FANOUTS
from workspace.workspaces.context import ServiceContext

log = logging.getLogger("workspace.scrub")
ACTOR = "daemon:scrub"


def slice_size(interval: int, period: int) -> int:
    return max(1, min(FANOUTS, math.ceil(FANOUTS * interval / max(period, 1))))


def scrub_once(ctx: ServiceContext, *, interval: int, period: int) -> dict[str, Any]:
    """Verify the next slice; returns what was checked and found (also audited)."""
    with exclusive(ctx, "scrub"):
        with ctx.db.read() as session:
            done = hq.scrub_slices(session, ctx.store.store_id)
        order = sorted((f"{i:02x}" for i in range(FANOUTS)),
                       key=lambda f: (f in done, done[f].verified_at if f in done else None))
        chosen = order[:slice_size(interval, period)]
        verified, corrupt = _verify(ctx, chosen)
        record_slices(ctx.db, ctx.store.store_id, verified)
        summary = {"fanouts": chosen, "objects": sum(v[0] for v in verified.values()),
                   "bytes": sum(v[1] for v in verified.values()), "corrupt": corrupt}
        with ctx.db.write() as session:
            record(session, actor=ACTOR, action=Action.STORE_SCRUB_RUN, detail=summary)
        return summary


def _verify(ctx: ServiceContext, fanouts: list[str]) -> tuple[dict[str, tuple[int, int, int]],
                                                              list[str]]:
    verified: dict[str, tuple[int, int, int]] = {}
    corrupt: list[str] = []
    with Rehasher(ctx.store) as hasher:
        for fanout in fanouts:
            before = (hasher.objects, hasher.bytes)
            oids = [fanout + name for name in list_fanout(ctx.store.layout.objects_fd, fanout)]
            bad = [oid for oid, ok in hasher.verify(oids).items() if ok is False]
            for oid in bad:
                mark_damaged(ctx, ACTOR, oid, "corrupt")
            corrupt += bad
            verified[fanout] = (hasher.objects - before[0], hasher.bytes - before[1], len(bad))
    return verified, corrupt


class Scrubber:
    """The background thread; ``close()`` stops it (a running slice finishes first)."""

    def __init__(self, ctx: ServiceContext, *, interval: int, period: int) -> None:
        self._ctx, self._interval, self._period = ctx, interval, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scrub", daemon=True)

    def start(self) -> Scrubber:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _loop(self) -> None:
        wait = 0.0 if self._overdue() else float(self._interval)
        while not self._stop.wait(wait):
            wait = float(self._interval)
            try:
                scrub_once(self._ctx, interval=self._interval, period=self._period)
            except Conflict:
                wait = min(wait, 60.0)  # gc or fsck is running: try again soon
            except Exception:
                log.exception("scrub failed; next try in %ss", self._interval)

    def _overdue(self) -> bool:
        with self._ctx.db.read() as session:
            done = hq.scrub_slices(session, self._ctx.store.store_id)
        if not done:
            return False
        newest = max(row.verified_at for row in done.values())
        return (datetime.now(UTC) - newest).total_seconds() >= self._interval

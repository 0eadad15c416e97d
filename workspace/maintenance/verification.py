"""What fsck and scrub share: recording damage, quarantining, and when slices were verified."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.datasets.availability import damaged_versions
from workspace.db import Database
from workspace.db.queries import datasets as dq
from workspace.db.queries import health as hq
from workspace.db.queries import upkeep as q
from workspace.store.pins import FANOUTS
from workspace.workspaces.context import ServiceContext


def mark_damaged(ctx: ServiceContext, actor: str, oid: str, problem: str) -> dict[str, Any] | None:
    """Quarantine the object (if present) and record it damaged; None if it already was."""
    with ctx.store.pins.fanout_lock(oid):
        moved = None if problem == "missing" else ctx.store.layout.quarantine(oid)
    now = datetime.now(UTC)
    with ctx.db.write() as session:
        if not hq.mark_damaged(session, store_id=ctx.store.store_id, oid=oid, problem=problem,
                               quarantined_as=moved, at=now):
            return None
        versions = _versions_holding(session, ctx.store.store_id, oid)
        record(session, actor=actor, action=Action.STORE_OBJECT_QUARANTINE,
               detail={"oid": oid, "problem": problem, "quarantined_as": moved,
                       "versions": versions})
    return {"oid": oid, "problem": problem, "quarantined_as": moved, "versions": versions}


def _versions_holding(session: Session, store_id: str, oid: str) -> list[str]:
    ids = {row.dataset_id for row in q.entry_ranges_of(session, [oid])}
    names = dq.dataset_names(session, ids)
    found = []
    for dataset_id in sorted(ids):
        numbers = damaged_versions(session, store_id, dataset_id)
        found += [f"{names[dataset_id]}@{n}" for n in sorted(numbers)]
    return found


def record_slices(db: Database, store_id: str, verified: dict[str, tuple[int, int, int]]) -> None:
    with db.write() as session:
        hq.replace_slices(session, store_id, verified, datetime.now(UTC))


def last_verified(session: Session, store_id: str) -> dict[str, Any]:
    """When the store was last fully re-hashed: the oldest and newest slice, and gaps."""
    slices = hq.scrub_slices(session, store_id)
    times = [row.verified_at for row in slices.values()]
    return {"oldest": min(times) if len(slices) == FANOUTS else None,
            "newest": max(times) if times else None,
            "never": FANOUTS - len(slices),
            "slices": {fanout: row.verified_at for fanout, row in sorted(slices.items())}}

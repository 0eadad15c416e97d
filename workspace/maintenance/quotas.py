"""Quotas per dataset pattern, and the free-space floor (``min_free``), checked before a write.

An add or commit is admitted before any file is staged: the bytes it may add
(the size of every new or changed file, as if nothing deduplicated) must fit
under every quota whose pattern matches the dataset, counting what the
matching datasets already hold (``usage.physical_bytes``), and must leave at
least ``min_free`` bytes free on the store's file system. Reads are never
refused. Two writes admitted at the same moment may together pass a quota by
their own size: the check is a guard against filling the disk, not an
accounting ledger.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.db import Database
from workspace.db.queries import quotas as q
from workspace.db.queries import upkeep as uq
from workspace.errors import DiskFull, NotFound, QuotaExceeded
from workspace.maintenance.usage import physical_bytes
from workspace.policy.values import matches
from workspace.policy.values import pattern as valid_pattern
from workspace.store import ObjectStore
from workspace.units import parse_size


@dataclass(frozen=True, slots=True)
class WriteLimits:
    """``min_free``: bytes the store's file system keeps free; new writes below it are refused."""

    min_free: int = 0


def list_quotas(session: Session) -> dict[str, Any]:
    """Every quota with what its datasets hold now."""
    ids = uq.dataset_ids_by_name(session)
    quotas = []
    for row in q.all_quotas(session):
        used = physical_bytes(session, {ds for name, ds in ids.items()
                                        if matches(name, row.pattern)})
        quotas.append({"pattern": row.pattern, "bytes": row.bytes, "used": used,
                       "set_by": row.set_by, "set_at": row.set_at})
    return {"quotas": quotas}


def set_quota(session: Session, caller: Caller, pattern: str, size: object) -> dict[str, Any]:
    valid_pattern(pattern)
    limit = parse_size(size)
    previous = q.set_quota(session, pattern=pattern, size=limit, user_id=caller.user_id)
    record(session, actor=caller.name, action=Action.STORE_QUOTA_SET,
           detail={"pattern": pattern, "bytes": limit, "previous": previous})
    return {"pattern": pattern, "bytes": limit, "previous": previous}


def remove_quota(session: Session, caller: Caller, pattern: str) -> dict[str, Any]:
    if not q.remove_quota(session, pattern):
        raise NotFound(f"there is no quota on {pattern}", hint="`ws quota list` shows the quotas")
    record(session, actor=caller.name, action=Action.STORE_QUOTA_REMOVE,
           detail={"pattern": pattern})
    return {"pattern": pattern, "removed": True}


def admit_write(db: Database, store: ObjectStore, limits: WriteLimits, *, dataset: str,
                incoming: int) -> None:
    """Refuse (DiskFull, QuotaExceeded) a write of up to ``incoming`` new bytes to ``dataset``."""
    _check_free_space(store, limits, incoming)
    with db.read() as session:
        quotas = [row for row in q.all_quotas(session) if matches(dataset, row.pattern)]
        if not quotas:
            return
        ids = uq.dataset_ids_by_name(session)
        for row in quotas:
            members = {ds for name, ds in ids.items() if matches(name, row.pattern)}
            used = physical_bytes(session, members)
            if used + incoming > row.bytes:
                raise _over_quota(dataset, row.pattern, row.bytes, used, incoming)


def _check_free_space(store: ObjectStore, limits: WriteLimits, incoming: int) -> None:
    if limits.min_free <= 0:
        return
    fs = os.statvfs(store.root)
    free = fs.f_bavail * fs.f_frsize
    if free - incoming >= limits.min_free:
        return
    raise DiskFull(
        f"the store's file system ({store.root}) has {_size(free)} free; this write may add up "
        f"to {_size(incoming)} and min_free keeps {_size(limits.min_free)} free, so it was "
        "refused before anything was stored (reads keep working)",
        hint="free space (`ws du` shows what is used; `ws prune`, then `ws gc`, reclaims it), "
        "or ask the admin to lower min_free",
        details={"path": str(store.root), "free": free, "needed": incoming,
                 "min_free": limits.min_free})


def _over_quota(dataset: str, pattern: str, limit: int, used: int,
                incoming: int) -> QuotaExceeded:
    return QuotaExceeded(
        f"writing to {dataset} would exceed the quota on {pattern}: {_size(limit)}, of which "
        f"the matching datasets hold {_size(used)}, and this write may add up to "
        f"{_size(incoming)}; nothing was stored",
        hint="prune old versions (`ws prune`, then `ws gc`), or ask an admin to raise it "
        f"(`ws quota set '{pattern}' SIZE`)",
        details={"dataset": dataset, "pattern": pattern, "quota": limit, "used": used,
                 "incoming": incoming})


def _size(value: int) -> str:
    """Bytes in binary units, with the exact count (the error says the numbers)."""
    shown, unit = float(value), "B"
    for next_unit in ("KiB", "MiB", "GiB", "TiB"):
        if abs(shown) < 1024:
            break
        shown, unit = shown / 1024, next_unit
    text = f"{int(shown)} B" if unit == "B" else f"{shown:.1f} {unit}"
    return f"{text} ({value:,} bytes)" if unit != "B" else text

"""``ws fsck``: is every kept version's every object there, intact, and safe from writers?

Per fan-out directory: the objects kept versions reference (with the sizes
their entries record) are compared with what is on disk (kind, size, mode,
owner); with ``read_data`` every object is re-hashed (``store/fsck.py``).
An object that is corrupt, of the wrong size or kind, or owned by someone
else cannot be trusted: it is moved to quarantine, and it and every missing
one is recorded as damaged, which makes the versions holding it refuse to be
served (``datasets/availability.py``). An object ``ws gc --evict`` dropped
(recorded in ``evicted_objects``) is absent on purpose: it is counted as
evicted, not missing. ``repair`` brings damaged objects back from a repair
source (``repair.py``: workspace copies, then the default remote) and makes
writable objects read-only again. The database's own references are checked
too (``db/queries/consistency``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.db.queries import health as hq
from workspace.db.queries import remotes as rq
from workspace.db.queries.consistency import all_checks
from workspace.maintenance.gc import exclusive
from workspace.maintenance.references import Liveness, referenced_sizes
from workspace.maintenance.repair import RemoteCopy, RepairSource, WorkspaceCopies, restore
from workspace.maintenance.verification import last_verified, mark_damaged, record_slices
from workspace.remotes.backend import RemoteOptions
from workspace.store.fsck import Finding, Rehasher, inspect
from workspace.store.gc import GROUP
from workspace.store.pins import FANOUTS
from workspace.workspaces.context import Reporter, ServiceContext

_UNTRUSTED = {"corrupt", "size", "type", "owner"}


@dataclass(slots=True)
class _Run:
    findings: list[Finding] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    evicted: int = 0
    evicted_to: dict[str, int] = field(default_factory=dict)  # remote -> objects
    objects: int = 0
    bytes: int = 0
    verified: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # fanout -> counts


def check(ctx: ServiceContext, caller: Caller, *, read_data: bool, repair: bool,
          reporter: Reporter = Reporter(), sources: list[RepairSource] | None = None,
          remote: RemoteOptions | None = None) -> dict[str, Any]:
    """One fsck run (audited); ``ok`` is False if anything is still wrong at the end.

    Repair sources: ``sources``, else workspace copies, then (given ``remote``) the
    default remote."""
    with exclusive(ctx, "fsck"):
        with ctx.db.read() as session:
            database = all_checks(session)
            liveness = Liveness.load(session)
        run = _scan(ctx, liveness, read_data, reporter)
        damaged = _quarantine(ctx, caller, run)
        fixed = _repair(ctx, caller, sources or _sources(ctx, remote)) if repair else []
        modes = _fix_modes(ctx, run) if repair else []
        if read_data:
            record_slices(ctx.db, ctx.store.store_id, run.verified)
        return _finish(ctx, caller, run, database, damaged, fixed, modes, read_data)


def _sources(ctx: ServiceContext, remote: RemoteOptions | None) -> list[RepairSource]:
    found: list[RepairSource] = [WorkspaceCopies(ctx.db)]
    if remote is not None:
        found.append(RemoteCopy(ctx.db, ctx.store, remote))
    return found


def _scan(ctx: ServiceContext, liveness: Liveness, read_data: bool,
          reporter: Reporter) -> _Run:
    run = _Run()
    reporter.start(FANOUTS, 0)
    with Rehasher(ctx.store) as rehasher:
        for start in range(0, FANOUTS, GROUP):
            _scan_group(ctx, liveness, run, rehasher if read_data else None, start)
            reporter.update(start + GROUP, run.bytes)
    return run


def _scan_group(ctx: ServiceContext, liveness: Liveness, run: _Run, rehasher: Rehasher | None,
                start: int) -> None:
    """Fan-outs ``start``..``start + GROUP - 1``: one query for what they should hold."""
    fanouts = [f"{index:02x}" for index in range(start, start + GROUP)]
    with ctx.db.read() as session:
        expected = referenced_sizes(session, liveness, fanouts[0], fanouts[-1])
    for fanout in fanouts:
        findings, sizes = inspect(ctx.store, fanout, expected)
        run.findings += findings
        absent = [oid for oid in expected if oid.startswith(fanout) and oid not in sizes]
        if absent:
            with ctx.db.read() as session:
                evicted = hq.evicted_among(session, ctx.store.store_id, absent)
            run.evicted += len(evicted)
            for remote in evicted.values():
                run.evicted_to[remote] = run.evicted_to.get(remote, 0) + 1
            run.missing += sorted(oid for oid in absent if oid not in evicted)
        run.objects += len(sizes)
        run.bytes += sum(sizes.values())
        if rehasher is not None:
            _rehash(rehasher, run, fanout, sizes)


def _rehash(rehasher: Rehasher, run: _Run, fanout: str, sizes: dict[str, int]) -> None:
    results = rehasher.verify(sizes)
    corrupt = [oid for oid, ok in results.items() if ok is False]
    run.findings += [Finding("corrupt", oid, "its bytes do not hash to its name")
                     for oid in corrupt]
    run.verified[fanout] = (len(sizes), sum(sizes.values()), len(corrupt))


def _quarantine(ctx: ServiceContext, caller: Caller, run: _Run) -> list[dict[str, Any]]:
    """Move untrusted objects aside and record them and the missing ones as damaged."""
    damaged = []
    for finding in run.findings:
        if finding.kind in _UNTRUSTED:
            damaged.append(mark_damaged(ctx, caller.name, finding.oid, finding.kind))
    for oid in run.missing:
        damaged.append(mark_damaged(ctx, caller.name, oid, "missing"))
    return [d for d in damaged if d is not None]


def _repair(ctx: ServiceContext, caller: Caller, sources: list[RepairSource],
            ) -> list[dict[str, Any]]:
    with ctx.db.read() as session:
        damaged = [row.oid for row in hq.damaged(session, ctx.store.store_id)]
    fixed = []
    for oid in damaged:
        good = ctx.store.exists(oid) and ctx.store.verify(oid)  # re-added since?
        where = "store" if good else restore(ctx.store, oid, sources)
        if where is None:
            continue
        with ctx.db.write() as session:
            hq.clear_damaged(session, ctx.store.store_id, oid)
            record(session, actor=caller.name, action=Action.STORE_OBJECT_REPAIR,
                   detail={"oid": oid, "source": where})
        fixed.append({"oid": oid, "source": where})
    return fixed


def _fix_modes(ctx: ServiceContext, run: _Run) -> list[str]:
    """Make writable objects of ours read-only again, if their bytes still hash right."""
    fixed = []
    for finding in run.findings:
        if finding.kind == "writable" and ctx.store.verify(finding.oid):
            fd = ctx.store.open_object(finding.oid)
            try:
                os.fchmod(fd, 0o444)
            finally:
                os.close(fd)
            fixed.append(finding.oid)
    return fixed


def _finish(ctx: ServiceContext, caller: Caller, run: _Run, database: list[str],
            damaged: list[dict[str, Any]], fixed: list[dict[str, Any]], modes: list[str],
            read_data: bool) -> dict[str, Any]:
    with ctx.db.write() as session:
        still: list[dict[str, Any]] = [
            {"oid": row.oid, "problem": row.problem, "found_at": row.found_at,
             "quarantined_as": row.quarantined_as}
            for row in hq.damaged(session, ctx.store.store_id)]
        problems = _problems(run, database, {d["oid"] for d in still}, set(modes))
        problems += _orphaned(run, {r.name for r in rq.all_remotes(session)})
        ok = not still and all(p["resolved"] for p in problems)
        summary = {"ok": ok, "read_data": read_data, "objects": run.objects,
                   "bytes": run.bytes, "evicted": run.evicted, "problems": len(problems),
                   "damaged": len(still), "repaired": len(fixed)}
        record(session, actor=caller.name, action=Action.STORE_FSCK_RUN, detail=summary)
        verified = last_verified(session, ctx.store.store_id)
    return {**summary, "problems": problems, "damaged": still, "repaired": fixed,
            "newly_damaged": damaged, "modes_fixed": modes, "last_verified": verified,
            "checked_at": datetime.now(UTC)}


def _orphaned(run: _Run, configured: set[str]) -> list[dict[str, Any]]:
    """Evicted objects whose remote is no longer configured: no checkout can fetch them."""
    return [{"kind": "evicted", "oid": None, "resolved": False,
             "detail": f"{n} object(s) were evicted to remote {remote}, which is no longer "
             f"configured: add it again (`ws remote add {remote} URL --default`)"}
            for remote, n in sorted(run.evicted_to.items()) if remote not in configured]


def _problems(run: _Run, database: list[str], still: set[str],
              modes: set[str]) -> list[dict[str, Any]]:
    """Everything found; ``resolved`` when repaired (or made read-only) by this run."""
    found: list[dict[str, Any]] = [{"kind": f.kind, "oid": f.oid, "detail": f.detail}
                                   for f in run.findings]
    found += [{"kind": "missing", "oid": oid, "detail": "referenced but not in the store"}
              for oid in run.missing]
    for problem in found:
        kind, oid = problem["kind"], problem["oid"]
        problem["resolved"] = (kind in _UNTRUSTED | {"missing"} and oid not in still) or (
            kind == "writable" and oid in modes)
    return found + [{"kind": "database", "oid": None, "detail": text, "resolved": False}
                    for text in database]

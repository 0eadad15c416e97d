"""``ws gc``: apply the retention rules, then delete the objects no kept version references.

The protocol, and why it cannot lose data, is in docs/design.md ("Garbage
collection"); ``store/gc.py`` holds the unlink rules and ``store/pins.py`` the
pins. Here: the references side. Each fan-out directory is compared with the
objects the kept versions reference in it (one indexed range read), and the
candidates are re-checked against database pins and references right before
they are unlinked. One gc, fsck or scrub runs at a time per daemon.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.config import RetentionRule
from workspace.db.queries import upkeep as q
from workspace.errors import Conflict
from workspace.maintenance.evict import Evictor
from workspace.maintenance.references import Liveness, referenced_in_fanouts, still_referenced
from workspace.maintenance.retention import apply_rules
from workspace.remotes.backend import RemoteOptions
from workspace.store.gc import Sweeper
from workspace.store.pins import FANOUTS
from workspace.workspaces.context import Reporter, ServiceContext


def collect(ctx: ServiceContext, caller: Caller, *, grace: int, dry_run: bool,
            rules: Sequence[RetentionRule], reporter: Reporter = Reporter(),
            evict: RemoteOptions | None = None) -> dict[str, Any]:
    """One gc run; audited unless ``dry_run`` (which changes nothing). With ``evict``,
    then drop referenced objects the default remote holds (``evict.py``)."""
    with exclusive(ctx, "gc"):
        evictor = None if evict is None else Evictor.open(ctx, evict, dry_run=dry_run)
        with (ctx.db.read() if dry_run else ctx.db.write()) as session:
            retention = apply_rules(session, caller, rules, dry_run=dry_run)
        liveness = _liveness(ctx, retention if dry_run else [])
        reporter.start(FANOUTS, 0)
        sweeper = Sweeper(ctx.store, grace=grace, dry_run=dry_run)
        report = sweeper.sweep(lambda first, last: _snapshot(ctx, liveness, first, last),
                               lambda oids: _recheck(ctx, liveness, oids),
                               lambda done, seen: reporter.update(done, seen))
        result = {"dry_run": dry_run, "grace": grace, **asdict(report),
                  "retention": [_rule_summary(r) for r in retention]}
        if not dry_run:
            with ctx.db.write() as session:
                record(session, actor=caller.name, action=Action.STORE_GC_RUN,
                       detail={k: v for k, v in result.items() if k != "retention"}
                       | {"pruned": sum(len(r["pruned"]) for r in retention)})
        if evictor is not None:
            result["evict"] = _evict(ctx, caller, evictor, liveness, dry_run, reporter)
        return result


def _evict(ctx: ServiceContext, caller: Caller, evictor: Evictor, liveness: Liveness,
           dry_run: bool, reporter: Reporter) -> dict[str, Any]:
    reporter.start(FANOUTS, 0)
    report = asdict(evictor.run(lambda first, last: _snapshot(ctx, liveness, first, last),
                                reporter.update))
    if not dry_run:
        with ctx.db.write() as session:
            record(session, actor=caller.name, action=Action.REMOTE_OBJECT_EVICT, detail=report)
    return {"dry_run": dry_run, **report}


@contextmanager
def exclusive(ctx: ServiceContext, what: str) -> Iterator[None]:
    """Run ``what`` (gc, fsck, scrub) alone: a second one is refused, not queued."""
    if not ctx.upkeep.acquire(blocking=False):
        raise Conflict(f"cannot start {what}: gc, fsck or a scrub is already running",
                       hint="wait for it to finish, then run the command again")
    try:
        yield
    finally:
        ctx.upkeep.release()


def _liveness(ctx: ServiceContext, planned: list[dict[str, Any]]) -> Liveness:
    """The pruned versions now; on a dry run, with the retention plan's as if pruned."""
    with ctx.db.read() as session:
        pruned, latest = q.pruned_numbers(session), q.latest_numbers(session)
        ids = q.dataset_ids_by_name(session)
    for result in planned:
        dataset_id = ids[result["dataset"]]
        numbers = [p["version"] for p in result["pruned"]]
        pruned[dataset_id] = sorted({*pruned.get(dataset_id, []), *numbers})
    return Liveness(pruned, latest)


def _snapshot(ctx: ServiceContext, liveness: Liveness, first: str, last: str) -> set[str]:
    with ctx.db.read() as session:
        return referenced_in_fanouts(session, liveness, first, last)


def _recheck(ctx: ServiceContext, liveness: Liveness, oids: list[str]) -> set[str]:
    with ctx.db.read() as session:
        return still_referenced(session, oids, liveness, pin_rows=not ctx.db.is_sqlite)


def _rule_summary(result: dict[str, Any]) -> dict[str, Any]:
    return {"rule": result["rule"], "dataset": result["dataset"],
            "pruned": [p["version"] for p in result["pruned"]],
            "kept": [k["version"] for k in result["kept"]], "frees": result["frees"]}

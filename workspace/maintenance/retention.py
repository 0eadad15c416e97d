"""Retention and deletion: ``ws prune``, ``ws rm``, and the retention rules ``ws gc`` applies.

Pruning a version records who pruned it, when and how (``pruned_versions``)
and an audit event; its row, entries and tags stay, so ``ws log`` and
``ws blame`` keep the history. Its objects are freed by the next gc once no
kept version references them and no workspace links them.

A version is **held**, and kept unless ``force``, when it is tagged or checked
out in a registered workspace (the answer names the workspaces). ``force``
overrides both holds; ``keep_tagged`` keeps tagged versions even then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.config import RetentionRule
from workspace.datasets.availability import resolve_kept
from workspace.db.models import Dataset, Version
from workspace.db.queries import datasets as dq
from workspace.db.queries import upkeep as q
from workspace.errors import InvalidInput, NotFound
from workspace.maintenance.references import Liveness
from workspace.policy.values import matches
from workspace.refs import Ref


@dataclass(frozen=True, slots=True)
class Holds:
    force: bool = False
    keep_tagged: bool = False


@dataclass(slots=True)
class Plan:
    dataset: Dataset
    prune: list[Version] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)
    held: dict[int, dict[str, Any]] = field(default_factory=dict)  # forced through: what held it


def prune(session: Session, caller: Caller, *, dataset: str, keep_last: int,
          older_than: int | None, holds: Holds, dry_run: bool,
          how: str = "prune") -> dict[str, Any]:
    """Prune all but the newest ``keep_last`` kept versions (only those older than ``older_than``
    seconds, when given)."""
    if keep_last < 1:
        raise InvalidInput("--keep-last must be at least 1",
                           hint=f"`ws rm {dataset}` removes a whole dataset")
    found = _dataset(session, dataset)
    kept = [v for v in q.versions_of(session, found.id) if v.number not in _pruned(session, found)]
    candidates = sorted(kept, key=lambda v: v.number)[:-keep_last]
    if older_than is not None:
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
        candidates = [v for v in candidates if v.created_at < cutoff]
    return _carry_out(session, caller, _plan(session, found, candidates, holds), how=how,
                      forced=holds.force, dry_run=dry_run)


def remove(session: Session, caller: Caller, *, ref: Ref, holds: Holds,
           dry_run: bool) -> dict[str, Any]:
    """``ws rm DATASET`` (every kept version) or ``ws rm DATASET@N`` (one)."""
    if ref.version is None and ref.label is None:
        found = _dataset(session, ref.dataset)
        pruned = _pruned(session, found)
        candidates = [v for v in q.versions_of(session, found.id) if v.number not in pruned]
        if not candidates:
            resolve_kept(session, ref)  # raises: says who removed it
    else:
        found, version = resolve_kept(session, ref)
        candidates = [version]
    result = _carry_out(session, caller, _plan(session, found, candidates, holds), how="rm",
                        forced=holds.force, dry_run=dry_run)
    result["removed"] = not dry_run and q.latest_kept(session, found.id) is None
    if result["removed"]:
        record(session, actor=caller.name, action=Action.DATASET_NAME_REMOVE, dataset=found.name,
               detail={"versions": len(result["pruned"])})
    return result


def apply_rules(session: Session, caller: Caller, rules: Sequence[RetentionRule], *,
                dry_run: bool) -> list[dict[str, Any]]:
    """Apply each retention rule to the datasets it matches (never forcing a hold)."""
    done = []
    for name, dataset_id in sorted(q.dataset_ids_by_name(session).items()):
        rule = next((r for r in rules if matches(name, r.pattern)), None)
        if rule is None or q.latest_kept(session, dataset_id) is None:
            continue
        result = prune(session, caller, dataset=name, keep_last=rule.keep_last,
                       older_than=rule.older_than, holds=Holds(), dry_run=dry_run,
                       how="retention")
        if result["pruned"]:
            done.append({**result, "rule": rule.pattern})
    return done


def _plan(session: Session, dataset: Dataset, candidates: list[Version], holds: Holds) -> Plan:
    tags = q.tagged_numbers(session, dataset.id)
    workspaces = q.holders(session, dataset.id)
    plan = Plan(dataset)
    for version in candidates:
        why = _holds(version.number, tags, workspaces)
        if why and (not holds.force or (holds.keep_tagged and "tags" in why)):
            plan.kept.append({"version": version.number, **why})
            continue
        if why:
            plan.held[version.number] = why
        plan.prune.append(version)
    return plan


def _holds(number: int, tags: dict[int, list[str]],
           workspaces: dict[int, list[str]]) -> dict[str, Any]:
    why: dict[str, Any] = {}
    if number in tags:
        why["tags"] = tags[number]
    if number in workspaces:
        why["workspaces"] = sorted(workspaces[number])
    return why


def _carry_out(session: Session, caller: Caller, plan: Plan, *, how: str, forced: bool,
               dry_run: bool) -> dict[str, Any]:
    numbers = [v.number for v in plan.prune]
    frees = _freed_bytes(session, plan.dataset.id, numbers)
    if not dry_run and numbers:
        q.mark_pruned(session, dataset_id=plan.dataset.id, numbers=numbers,
                      user_id=caller.user_id, how=how, forced=forced and bool(plan.held),
                      at=datetime.now(UTC))
        for number in numbers:
            record(session, actor=caller.name, action=Action.DATASET_VERSION_PRUNE,
                   dataset=plan.dataset.name, version=number,
                   detail={"how": how, "forced": number in plan.held,
                           "held_by": plan.held.get(number, {})})
    return {"dataset": plan.dataset.name, "dry_run": dry_run,
            "pruned": [{"version": v.number, "created_at": v.created_at, "files": v.file_count,
                        "bytes": v.total_bytes, "forced": plan.held.get(v.number)}
                       for v in plan.prune],
            "kept": plan.kept, "frees": frees}


def _freed_bytes(session: Session, dataset_id: int, numbers: list[int]) -> dict[str, int]:
    sizes = losing_references(session, dataset_id, numbers)
    return {"objects": len(sizes), "bytes": sum(sizes.values())}


def losing_references(session: Session, dataset_id: int, numbers: list[int]) -> dict[str, int]:
    """oid -> size of the objects that pruning ``numbers`` leaves with no kept reference.

    The one place that knows which objects lose their last reference when
    versions are pruned: gc may free them (unless a workspace links them), and
    per-object state keyed by references (issue 9's ACL entries) can follow it.
    """
    if not numbers:
        return {}
    before = Liveness.load(session)
    after_pruned = q.pruned_numbers(session)
    after_pruned[dataset_id] = sorted({*after_pruned.get(dataset_id, []), *numbers})
    after = Liveness(after_pruned, q.latest_numbers(session))
    touched = set(q.oids_overlapping(session, dataset_id, min(numbers), max(numbers)))
    rows = q.entry_ranges_of(session, touched)
    live_after = {r.oid for r in rows if after.live(r.dataset_id, r.added_in, r.removed_in)}
    freed = {r.oid for r in rows if r.oid not in live_after
             and before.live(r.dataset_id, r.added_in, r.removed_in)}
    return q.object_sizes(session, freed)


def _dataset(session: Session, name: str) -> Dataset:
    found = dq.dataset_by_name(session, name, lock=True)
    if found is None or found.latest == 0:
        raise NotFound(f"dataset {name} does not exist", hint="`ws datasets` lists the datasets")
    return found


def _pruned(session: Session, dataset: Dataset) -> set[int]:
    return set(q.pruned_numbers(session, dataset.id).get(dataset.id, ()))

"""``ws push``: send a dataset's objects, then its versions and tags, to a remote.

Order (the remote layout's publication rule, ``layout.py``): the objects the
remote lacks (packed or streamed, verified as they are read), then each
missing version, oldest first, written create-only, then the tags. A push
that dies at any point leaves nothing that refers to something absent, and
the next push finds what is already there and sends only the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets import versions
from workspace.db.queries import datasets as dq
from workspace.errors import InvalidInput
from workspace.refs import parse_ref
from workspace.remotes import inventory, layout, manage, records, transfer
from workspace.remotes.backend import Backend, RemoteOptions, open_backend
from workspace.remotes.layout import VersionRecord
from workspace.remotes.url import parse_url
from workspace.workspaces.context import Reporter, ServiceContext


@dataclass
class _Plan:
    """One dataset's push: the versions the remote lacks, and its local tags."""

    dataset: str
    upto: int
    missing: list[VersionRecord] = field(default_factory=list)
    already: int = 0
    tags: dict[str, int] = field(default_factory=dict)


def push(ctx: ServiceContext, caller: Caller, options: RemoteOptions, *, ref: str | None,
         all_datasets: bool, remote: str | None, may_write: Callable[[str], bool],
         reporter: Reporter = Reporter()) -> dict[str, Any]:
    started = time.monotonic()
    with ctx.db.read() as session:
        target = manage.require(session, remote)
        name, url = target.name, target.url
        wanted = _targets(session, ref, all_datasets, may_write)
    backend = open_backend(parse_url(url), options)
    plans = [_plan(ctx, backend, dataset, upto) for dataset, upto in wanted]
    sent = _send_objects(ctx, backend, plans, options, reporter)
    results = [_publish(backend, plan) for plan in plans]
    with ctx.db.write() as session:
        for result in results:
            record(session, actor=caller.name, action=Action.REMOTE_DATASET_PUSH,
                   dataset=result["dataset"], version=result["upto"],
                   detail={"remote": name, "url": url, "versions": result["pushed"],
                           "tags": result["tags"], "objects": sent.objects,
                           "bytes": sent.bytes})
    return {"remote": name, "url": url, "datasets": results, "objects": sent.objects,
            "bytes": sent.bytes, "seconds": round(time.monotonic() - started, 3)}


def _targets(session: Session, ref: str | None, all_datasets: bool,
             may_write: Callable[[str], bool]) -> list[tuple[str, int]]:
    if all_datasets == (ref is not None):
        raise InvalidInput("give a DATASET[@REF] or --all, not both or neither",
                           hint="`ws push vision/cats`, or `ws push --all` for every dataset "
                           "you may write")
    if ref is not None:
        dataset, version = versions.resolve(session, parse_ref(ref))
        return [(dataset.name, version.number)]
    return [(dataset.name, dataset.latest) for dataset, _ in dq.latest_versions(session)
            if may_write(dataset.name)]


def _plan(ctx: ServiceContext, backend: Backend, dataset: str, upto: int) -> _Plan:
    """Which versions the remote lacks; refuses (Conflict) when the histories diverged."""
    on_remote = set(inventory.version_numbers(backend, dataset))
    plan = _Plan(dataset, upto)
    with ctx.db.read() as session:
        found = dq.dataset_by_name(session, dataset)
        assert found is not None
        mine = records.local_identities(session, found)
        common = [n for n in on_remote if n in mine and n <= upto]
        if common:
            _check_same(backend, dataset, max(common), mine[max(common)])
        numbers = [n for n in sorted(mine) if n <= upto and n not in on_remote]
        authors = {n: mine[n][1] for n in numbers}
        for number in numbers:
            version = dq.version(session, found.id, number)
            assert version is not None
            plan.missing.append(records.record_of(session, found, version, authors[number]))
        tags = dq.tags_by_version(session, found.id)
    plan.already = len(common)
    plan.tags = {tag: n for n, names in tags.items() if n <= upto for tag in names}
    return plan


def _check_same(backend: Backend, dataset: str, number: int, mine: tuple[Any, ...]) -> None:
    key = layout.version_key(dataset, number)
    data = backend.get_bytes(key)
    theirs = None if data is None else VersionRecord.decode(data, key).identity()
    if theirs != mine:
        raise records.diverged(dataset, number, backend.description)


def _send_objects(ctx: ServiceContext, backend: Backend, plans: list[_Plan],
                  options: RemoteOptions, reporter: Reporter) -> transfer.Tally:
    needed = {e.oid: e.size for plan in plans for rec in plan.missing for e in rec.manifest}
    held = inventory.objects(backend, options.concurrency) if needed else inventory.Inventory()
    wanted = {oid: size for oid, size in needed.items() if not held.has(oid)}
    reporter.start(len(wanted), sum(wanted.values()))
    tally = transfer.Tally(reporter.update)
    if needed:
        backend.put_bytes(layout.MARKER, layout.marker(), create_only=True)
    transfer.upload(ctx.store, backend, wanted, concurrency=options.concurrency, tally=tally)
    return tally


def _publish(backend: Backend, plan: _Plan) -> dict[str, Any]:
    """Versions oldest first (create-only), then the tags: the dataset is published."""
    for rec in plan.missing:
        key = layout.version_key(plan.dataset, rec.number)
        if not backend.put_bytes(key, rec.encode(), create_only=True):
            _check_same(backend, plan.dataset, rec.number, rec.identity())
    key = layout.tags_key(plan.dataset)
    remote_tags = layout.decode_tags(backend.get_bytes(key), key)
    clashing = sorted(t for t, n in plan.tags.items() if remote_tags.get(t, n) != n)
    added = sorted(t for t in plan.tags if t not in remote_tags)
    if added:
        backend.put_bytes(key, layout.encode_tags({**remote_tags,
                                                   **{t: plan.tags[t] for t in added}}))
    return {"dataset": plan.dataset, "upto": plan.upto,
            "pushed": [rec.number for rec in plan.missing], "already": plan.already,
            "tags": added, "conflicting_tags": clashing}

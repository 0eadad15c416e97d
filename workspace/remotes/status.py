"""``ws remote status``: which versions and objects are only here, only there, or both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workspace.db.queries import datasets as dq
from workspace.db.queries import remotes as rq
from workspace.remotes import inventory, manage, records
from workspace.remotes.backend import Backend, RemoteOptions, open_backend
from workspace.remotes.inventory import Inventory
from workspace.remotes.url import parse_url
from workspace.workspaces.context import ServiceContext


def status(ctx: ServiceContext, options: RemoteOptions, *, remote: str | None,
           dataset: str | None, may_read: Callable[[str], bool]) -> dict[str, Any]:
    with ctx.db.read() as session:
        target = manage.require(session, remote)
        name, url = target.name, target.url
    backend = open_backend(parse_url(url), options)
    on_remote = inventory.datasets(backend)
    with ctx.db.read() as session:
        local = {d.name: d for d, _ in dq.latest_versions(session)}
    names = sorted({*local, *on_remote} if dataset is None else {dataset})
    held = inventory.objects(backend, options.concurrency)
    entries = [_dataset(ctx, backend, held, n, local.get(n) is not None, on_remote.get(n, []))
               for n in names if may_read(n)]
    return {"remote": name, "url": url, "datasets": entries}


def _dataset(ctx: ServiceContext, backend: Backend, held: Inventory, name: str,
             here: bool, theirs: list[int]) -> dict[str, Any]:
    mine: dict[int, tuple[Any, ...]] = {}
    oids: set[str] = set()
    with ctx.db.read() as session:
        found = dq.dataset_by_name(session, name) if here else None
        if found is not None:
            mine = records.local_identities(session, found)
            oids = rq.dataset_oids(session, found.id)
    both = sorted(set(mine) & set(theirs))
    present = {oid for oid in oids if ctx.store.exists(oid)}
    remote_only = sorted(set(theirs) - set(mine))
    theirs_oids = {e.oid for rec in inventory.read_versions(backend, name, remote_only, 8)
                   for e in rec.manifest}
    return {
        "dataset": name,
        "versions": {"both": both, "only_local": sorted(set(mine) - set(theirs)),
                     "only_remote": remote_only},
        "diverged": _diverged(backend, name, both, mine),
        "objects": {"both": sum(1 for o in present if held.has(o)),
                    "only_local": sum(1 for o in present if not held.has(o)),
                    "only_remote": sum(1 for o in theirs_oids - present if held.has(o)),
                    "missing_locally": len(oids - present)},
    }


def _diverged(backend: Backend, name: str, both: list[int],
              mine: dict[int, tuple[Any, ...]]) -> bool:
    if not both:
        return False
    (theirs,) = inventory.read_versions(backend, name, [both[-1]], 1)
    return theirs.identity() != mine[both[-1]]

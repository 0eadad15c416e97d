"""``ws pull``: bring a dataset's versions and objects from a remote into this server.

Conflict rules (histories are linear; ``records.py``): the local dataset may
be absent (it is created), behind the remote (the missing versions are
appended, keeping their numbers), equal or ahead (nothing to do). If the
highest version both have differs, the histories diverged and the pull is
refused with nothing changed. A version number already taken here by
another commit made meanwhile is refused the same way, in the final
transaction.

Order: every object the new versions need is downloaded and verified into
the store first (``transfer.py``); only then, in one transaction, are the
versions recorded, with their original authors (``authors.py``), times,
messages and git provenance, the remote's tags, and one audit event naming
who pulled what from where. A pull killed before that transaction leaves
verified objects and no version: run it again and it resumes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets import versions
from workspace.datasets.manifest import ManifestEntry, digest
from workspace.datasets.versions import GitInfo
from workspace.db.models import Dataset
from workspace.db.queries import datasets as dq
from workspace.errors import Conflict, NotFound, StoreCorrupt
from workspace.refs import Ref, parse_ref
from workspace.remotes import authors, inventory, layout, manage, records, transfer
from workspace.remotes.backend import Backend, RemoteOptions, open_backend
from workspace.remotes.layout import VersionRecord
from workspace.remotes.url import parse_url
from workspace.store.pins import PinLease
from workspace.workspaces.context import Reporter, ServiceContext


@dataclass(frozen=True, slots=True)
class _Local:
    latest: int
    identities: dict[int, tuple[Any, ...]]


def pull(ctx: ServiceContext, caller: Caller, options: RemoteOptions, *, ref: str,
         remote: str | None, reporter: Reporter = Reporter()) -> dict[str, Any]:
    started = time.monotonic()
    wanted_ref = parse_ref(ref)
    with ctx.db.read() as session:
        target = manage.require(session, remote)
        name, url = target.name, target.url
        local = _local(session, wanted_ref.dataset)
    backend = open_backend(parse_url(url), options)
    upto, new = _plan(backend, wanted_ref, local, options)
    with ctx.store.pins.lease() as lease:  # gc keeps every object named until they commit
        lease.pin_all(e.oid for rec in new for e in rec.manifest)
        tally = _fetch_objects(ctx, backend, new, options, reporter, lease)
        remote_tags: dict[str, Any] = {"tags": _tags(backend, wanted_ref.dataset, upto)}
        _commit(ctx, caller, new, local, url, name, wanted_ref.dataset, upto, remote_tags, tally)
    return {"remote": name, "url": url, "dataset": wanted_ref.dataset, "upto": upto,
            "pulled": [r.number for r in new], "tags": sorted(remote_tags.get("added", [])),
            "objects": tally.objects, "bytes": tally.bytes,
            "seconds": round(time.monotonic() - started, 3)}


def _commit(ctx: ServiceContext, caller: Caller, new: list[VersionRecord], local: _Local,
            url: str, name: str, dataset_name: str, upto: int, remote_tags: dict[str, Any],
            tally: transfer.Tally) -> None:
    """One transaction: the versions, the tags this server lacks, and the audit event."""
    with ctx.db.write() as session:
        dataset = _record(session, caller, new, local, url, dataset_name)
        tags = _add_tags(session, caller, dataset, remote_tags["tags"]) if dataset else []
        remote_tags["added"] = tags
        record(session, actor=caller.name, action=Action.REMOTE_DATASET_PULL,
               dataset=dataset_name, version=upto,
               detail={"remote": name, "url": url, "versions": [r.number for r in new],
                       "tags": tags, "objects": tally.objects, "bytes": tally.bytes})


def _local(session: Session, name: str) -> _Local:
    dataset = dq.dataset_by_name(session, name)
    if dataset is None:
        return _Local(0, {})
    return _Local(dataset.latest, records.local_identities(session, dataset))


def _plan(backend: Backend, ref: Ref, local: _Local,
          options: RemoteOptions) -> tuple[int, list[VersionRecord]]:
    """(the version pulled up to, the records to add); refuses a diverged history."""
    numbers = inventory.version_numbers(backend, ref.dataset)
    if not numbers:
        raise NotFound(f"{backend.description} has no dataset {ref.dataset}",
                       hint="`ws remote status` lists what the remote holds")
    upto = _resolve(backend, ref, numbers)
    common = [n for n in numbers if n in local.identities and n <= upto]
    if common:
        theirs = inventory.read_versions(backend, ref.dataset, [max(common)], 1)[0]
        if theirs.identity() != local.identities[max(common)]:
            raise records.diverged(ref.dataset, max(common), backend.description)
    todo = [n for n in numbers if local.latest < n <= upto]
    if todo and todo != list(range(local.latest + 1, upto + 1)):
        raise StoreCorrupt(f"{backend.description} lacks versions of {ref.dataset} between "
                           f"{local.latest} and {upto}", hint="push the dataset again from "
                           "a server that has them", details={"dataset": ref.dataset})
    new = inventory.read_versions(backend, ref.dataset, todo, options.concurrency)
    for rec in new:
        _check_digest(rec, backend.description)
    return upto, new


def _resolve(backend: Backend, ref: Ref, numbers: list[int]) -> int:
    if ref.label is not None:
        tags = _tags(backend, ref.dataset, max(numbers))
        if ref.label not in tags:
            raise NotFound(f"{ref.dataset} has no tag {ref.label} on {backend.description}")
        return tags[ref.label]
    if ref.version is not None and ref.version not in numbers:
        raise NotFound(f"{backend.description} has no version {ref.version} of {ref.dataset} "
                       f"(it has up to {max(numbers)})")
    return ref.version or max(numbers)


def _check_digest(rec: VersionRecord, where: str) -> None:
    if digest(rec.manifest) != rec.digest:
        raise StoreCorrupt(f"the manifest of {rec.dataset}@{rec.number} on {where} does not "
                           "match its digest: refused", hint="push it again from a server "
                           "that has it", details={"dataset": rec.dataset,
                                                   "version": rec.number})


def _fetch_objects(ctx: ServiceContext, backend: Backend, new: list[VersionRecord],
                   options: RemoteOptions, reporter: Reporter,
                   lease: PinLease) -> transfer.Tally:
    needed = {e.oid: e.size for rec in new for e in rec.manifest
              if not ctx.store.exists(e.oid)}
    held = inventory.objects(backend, options.concurrency) if needed else inventory.Inventory()
    for rec in new:
        for entry in rec.manifest:
            if entry.oid in needed and not held.has(entry.oid):
                raise StoreCorrupt(
                    f"{rec.dataset}@{rec.number} on {backend.description} names object "
                    f"{entry.oid} ({entry.path}), which the remote does not hold",
                    hint="push the dataset again from a server that has it",
                    details={"oid": entry.oid, "dataset": rec.dataset})
    reporter.start(len(needed), sum(needed.values()))
    tally = transfer.Tally(reporter.update)
    transfer.download(ctx.store, backend, needed, held, concurrency=options.concurrency,
                      tally=tally, lease=lease)
    return tally


def _tags(backend: Backend, dataset: str, upto: int) -> dict[str, int]:
    key = layout.tags_key(dataset)
    return {t: n for t, n in layout.decode_tags(backend.get_bytes(key), key).items()
            if n <= upto}


def _record(session: Session, caller: Caller, new: list[VersionRecord], local: _Local,
            url: str, name: str) -> Dataset | None:
    """Append the pulled versions, if this dataset has not moved since the plan."""
    dataset = dq.dataset_by_name(session, name, lock=True)
    if (dataset.latest if dataset else 0) != local.latest:
        raise Conflict(f"{name} changed on this server during the pull",
                       hint="run `ws pull` again", details={"dataset": name})
    if not new:
        return dataset
    if dataset is None:
        dataset = dq.create_dataset(session, name, caller.user_id, new[0].kind)
        record(session, actor=caller.name, action=Action.DATASET_NAME_CREATE, dataset=name,
               detail={"pulled_from": url})
    ids = authors.local_ids(session, [r.author for r in new], caller, url)
    for rec in new:
        manifest = {e.path: ManifestEntry(e.path, e.oid, e.size, e.executable)
                    for e in rec.manifest}
        git = GitInfo(rec.git.get("commit"), rec.git.get("branch"),
                      rec.git.get("dirty")) if rec.git else None
        versions.import_version(session, dataset=dataset, number=rec.number,
                                author_id=ids[rec.author], created_at=rec.created_at,
                                message=rec.message, manifest=manifest, git=git)
    return dataset


def _add_tags(session: Session, caller: Caller, dataset: Dataset,
              tags: dict[str, int]) -> list[str]:
    """The remote's tags this server lacks (a tag name taken here is left as it is)."""
    have = {t for names in dq.tags_by_version(session, dataset.id).values() for t in names}
    added = sorted(t for t, n in tags.items() if t not in have and n <= dataset.latest)
    for tag in added:
        dq.add_tag(session, dataset_id=dataset.id, name=tag, version=tags[tag],
                   user_id=caller.user_id)
    return added

"""``ws checkout``, ``ws get`` and ``ws status``: make disk match a version, or compare them."""

from __future__ import annotations

import logging
import os
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets import versions
from workspace.datasets.availability import resolve_usable
from workspace.datasets.manifest import ManifestEntry
from workspace.db.models import Dataset, TrackedPath, Version
from workspace.db.queries import datasets as dq
from workspace.db.queries import workspaces as wq
from workspace.errors import Conflict, DiskFull, InvalidInput
from workspace.refs import Ref, parse_ref
from workspace.store import safefs
from workspace.store.names import shown
from workspace.store.pins import PinLease
from workspace.workspaces import local, materialize, registry
from workspace.workspaces.context import Reporter, ServiceContext, open_root
from workspace.workspaces.ingest import Summary
from workspace.workspaces.results import OpResult, pointer_info, tracked_info

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Target:
    dataset: Dataset
    version: Version
    manifest: dict[str, ManifestEntry]


def checkout(ctx: ServiceContext, caller: Caller, *, path: str, ref: str | None = None,
             digest: str | None = None, force: bool = False,
             reporter: Reporter = Reporter()) -> OpResult:
    with ctx.db.read() as session:
        located = registry.locate(session, caller, path)
        tracked = located.tracked
        if tracked is None or located.inner:
            raise InvalidInput(f"{located.relpath} is not a tracked path",
                               hint="`ws status` lists tracked paths; `ws get REF PATH` "
                               "checks a dataset out into a new path")
        current = dq.dataset_names(session, [tracked.dataset_id])[tracked.dataset_id]
        target = _target(session, ctx, parse_ref(ref) if ref else Ref(current), digest,
                         tracked.kind, tracked.path)
        cache = wq.tracked_files(session, tracked.id)
    return _sync_and_record(ctx, caller, located.workspace, tracked, target, cache, force,
                            reporter, Action.WORKSPACE_PATH_CHECKOUT)


def get(ctx: ServiceContext, caller: Caller, *, ref: str, path: str, digest: str | None = None,
        force: bool = False, reporter: Reporter = Reporter()) -> OpResult:
    with ctx.db.read() as session:
        located = registry.locate(session, caller, path)
        retarget = located.tracked is not None and located.inner == ""
        if not retarget:
            registry.check_new_tracked_path(session, located)
            dataset, _ = resolve_usable(session, parse_ref(ref), ctx.store.store_id)
            target = _target(session, ctx, parse_ref(ref), digest, dataset.kind, located.relpath)
    if retarget:  # outside the read transaction: checkout has its own three phases
        return checkout(ctx, caller, path=path, ref=ref, digest=digest, force=force,
                        reporter=reporter)
    pending = TrackedPath(workspace_id=located.workspace.id, path=located.relpath,
                          kind=target.dataset.kind, dataset_id=target.dataset.id, version=0)
    return _sync_and_record(ctx, caller, located.workspace, pending, target, {}, force,
                            reporter, Action.WORKSPACE_PATH_TRACK)


def status(ctx: ServiceContext, caller: Caller, *, path: str) -> dict[str, Any]:
    with ctx.db.read() as session:
        located = registry.locate(session, caller, path)
        tracked = registry.tracked_under(session, located)
        names = dq.dataset_names(session, [t.dataset_id for t in tracked])
    reports, refreshed = [], {}
    access = ctx.acl.notes(caller, names.values())  # service mode: may they still read it?
    with open_root(located.workspace.path, caller) as root_fd:
        for item in tracked:
            state, note = _local_state(ctx, root_fd, item)
            refreshed[item.id] = state.refreshed
            reports.append({**_status_entry(item, names[item.dataset_id], state), **note,
                            **access.get(names[item.dataset_id], {})})
    _refresh(ctx, refreshed)
    return {"workspace": located.workspace.path, "tracked": reports}


def _local_state(ctx: ServiceContext, root_fd: int,
                 item: TrackedPath) -> tuple[local.LocalState, dict[str, Any]]:
    """From the watcher's memory when it can answer; else a full scan, which it may adopt."""
    if ctx.watcher is None:
        return _scan(ctx, root_fd, item), {}
    with ctx.watcher.status_view(root_fd, item) as view:
        scanned = view.state is None
        if view.state is None:
            view.state = _scan(ctx, root_fd, item)
        return view.state, {**view.note, "scanned": scanned}


def _scan(ctx: ServiceContext, root_fd: int, item: TrackedPath) -> local.LocalState:
    with ctx.db.read() as session:
        cache = wq.tracked_files(session, item.id)
    return local.compare(root_fd, item.path, item.kind, cache)


def _status_entry(item: TrackedPath, dataset: str, state: local.LocalState) -> dict[str, Any]:
    added = sorted([*state.added, *map(shown, state.unsupported)])
    return {"path": item.path, "dataset": dataset, "version": item.version,
            "kind": item.kind, "clean": state.clean, "added": added,
            "modified": state.modified, "deleted": state.deleted}


def _refresh(ctx: ServiceContext, refreshed: dict[int, list[dict[str, Any]]]) -> None:
    """Remember files found unchanged by hashing; only a speed-up, so a full disk skips it."""
    if not any(refreshed.values()):
        return
    try:
        with ctx.db.write() as session:
            for tracked_id, rows in refreshed.items():
                wq.refresh_tracked_files(session, tracked_id, rows)
    except DiskFull as exc:
        log.warning("status: stat cache not refreshed: %s", exc.message)


def _target(session: Session, ctx: ServiceContext, ref: Ref, digest: str | None, kind: str,
            local_path: str) -> _Target:
    dataset, version = resolve_usable(session, ref, ctx.store.store_id)
    if digest is not None and digest != version.digest:
        raise InvalidInput(
            f"the pointer for {local_path} names {dataset.name}@{version.number} with digest "
            f"{digest}, but the server's version has {version.digest}",
            hint="the pointer file was edited or comes from another server; "
            "restore it from git or check out by version with --version",
            details={"path": local_path, "expected": version.digest, "pointer": digest})
    if dataset.kind != kind:
        raise InvalidInput(f"{dataset.name} is a {dataset.kind} dataset but {local_path} is "
                           f"tracked as a {kind}", hint="check it out into another path")
    manifest = versions.manifest_at(session, dataset.id, version.number)
    if kind == "file":
        manifest = {posixpath.basename(local_path): ManifestEntry(
            posixpath.basename(local_path), e.oid, e.size, e.executable)
            for e in manifest.values()}
    return _Target(dataset, version, manifest)


def _sync_and_record(ctx: ServiceContext, caller: Caller, workspace: Any, tracked: TrackedPath,
                     target: _Target, cache: local.Cache, force: bool, reporter: Reporter,
                     action: Action) -> OpResult:
    with ctx.workspace_lock(workspace.id), ctx.changing(workspace.id, tracked.path), \
            open_root(workspace.path, caller) as root_fd, ctx.store.pins.lease() as lease:
        lease.pin_all(e.oid for e in target.manifest.values())  # gc keeps them while we link
        summary, rows, kept = _sync(ctx, caller, workspace.path, root_fd, tracked, target, cache,
                                    force, reporter, lease)
        with ctx.db.write() as session:
            row = _store_tracked(session, workspace.id, tracked, target)
            wq.replace_tracked_files(session, row.id, rows)
            record(session, actor=caller.name, action=action, dataset=target.dataset.name,
                   version=target.version.number, workspace=workspace.path, path=row.path,
                   detail={"linked": summary.linked, "copied": summary.copied,
                           "removed": summary.removed, "unchanged": summary.unchanged,
                           "force": force})
            info = versions.describe(session, target.dataset, target.version)
            return OpResult(tracked_info(workspace, row, target.dataset.name),
                            pointer_info(row.path, info), summary, version=info, kept=kept)


def _sync(ctx: ServiceContext, caller: Caller, root: str, root_fd: int, tracked: TrackedPath,
          target: _Target, cache: local.Cache, force: bool, reporter: Reporter,
          lease: PinLease) -> tuple[Summary, list[dict[str, Any]], list[str]]:
    state = local.compare(root_fd, tracked.path, tracked.kind, cache)
    at_risk = materialize.conflicts(target.manifest, state)
    if at_risk and not force:
        raise _local_changes(tracked.path, at_risk)
    work = materialize.plan(target.manifest, state, cache)
    _fetch_missing(ctx, caller, work, reporter, lease)  # an ACL needs the object
    ctx.acl.grant(caller, target.dataset.name, _granted(tracked, target, work))
    reporter.start(len(work.link), sum(e.size for e in work.link))
    with _writable_base(root_fd, tracked) as base_fd:
        summary, placed = materialize.apply(ctx.store, base_fd, work, prefer=ctx.link_mode,
                                            progress=reporter.update)
    files = materialize.in_place_after(target.manifest, state, placed)
    ctx.acl.track_copies(caller, target.dataset.name, root, root_fd, lambda: materialize.placed(
        tracked.path, tracked.kind, files, target.manifest))
    manifest = target.manifest
    rows = [local.cache_row(f.relpath, manifest[f.relpath].oid, f.stat,
                            size=manifest[f.relpath].size)
            for f in files if f.relpath in manifest]
    kept = [p for p in state.added if p not in target.manifest]
    summary.files = len(target.manifest)
    summary.bytes = sum(e.size for e in target.manifest.values())
    return summary, rows, kept


def _granted(tracked: TrackedPath, target: _Target, work: materialize.Plan) -> set[str]:
    """What the caller is given read on: what gets linked; everything, for another dataset
    (files already in place were given for the dataset they came from)."""
    if tracked.version == 0 or tracked.dataset_id != target.dataset.id:
        return {e.oid for e in target.manifest.values()}
    return {e.oid for e in work.link}


def _fetch_missing(ctx: ServiceContext, caller: Caller, work: materialize.Plan,
                   reporter: Reporter, lease: PinLease) -> None:
    """Objects the store lacks (evicted, lost) come from the default remote, if any;
    the lease keeps the others until they are linked."""
    ctx.ensure_present(caller, {e.oid: e.size for e in work.link}, lease, reporter)


@contextmanager
def _writable_base(root_fd: int, tracked: TrackedPath) -> Iterator[int]:
    if tracked.kind == "dir":
        fd = safefs.open_dir(root_fd, tracked.path, create=True)
    else:
        fd, _ = safefs.open_parent(root_fd, tracked.path, create=True)
    try:
        yield fd
    finally:
        os.close(fd)


def _store_tracked(session: Session, workspace_id: int, tracked: TrackedPath,
                   target: _Target) -> TrackedPath:
    row = wq.tracked_path(session, workspace_id, tracked.path)
    if row is None:
        row = wq.add_tracked_path(session, workspace_id=workspace_id, path=tracked.path,
                                  kind=tracked.kind, dataset_id=target.dataset.id,
                                  version=target.version.number)
    row.dataset_id = target.dataset.id
    row.version = target.version.number
    return row


def _local_changes(path: str, at_risk: list[str]) -> Conflict:
    shown = ", ".join(at_risk[:10]) + (" ..." if len(at_risk) > 10 else "")
    return Conflict(
        f"{path} has local changes that the checkout would overwrite: {shown}",
        hint=f"commit them (`ws commit {path} -m ...`), move them aside, "
        "or pass --force to discard them",
        details={"files": at_risk})

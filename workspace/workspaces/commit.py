"""``ws add`` and ``ws commit``: ingest a tracked path and record a new version."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets import locks, versions
from workspace.datasets.manifest import ManifestEntry
from workspace.datasets.versions import GitInfo
from workspace.db.models import TrackedPath
from workspace.db.queries import datasets as dq
from workspace.db.queries import upkeep as uq
from workspace.db.queries import workspaces as wq
from workspace.errors import Conflict, InvalidInput
from workspace.maintenance.pins import OperationPins, pinning
from workspace.maintenance.quotas import admit_write
from workspace.refs import validate_name
from workspace.workspaces import local, materialize, registry
from workspace.workspaces.context import Reporter, ServiceContext, kind_of, open_root
from workspace.workspaces.ingest import IngestOptions, IngestReport, ingest
from workspace.workspaces.recording import OVERLAP_UP_TO, Manifest, VersionWriter
from workspace.workspaces.results import OpResult, pointer_info, tracked_info

Recorded = tuple[versions.CommitOutcome, TrackedPath]
"""What recording a version returns: its outcome, and the tracked path's row."""


def add(ctx: ServiceContext, caller: Caller, *, path: str, dataset: str, message: str,
        skip_symlinks: bool = False, git: GitInfo | None = None,
        reporter: Reporter = Reporter()) -> OpResult:
    validate_name(dataset)
    _require_message(message)
    with ctx.db.read() as session:
        located = registry.locate(session, caller, path)
        registry.check_new_tracked_path(session, located)
        existing = dq.dataset_by_name(session, dataset)
        if existing is not None and uq.latest_kept(session, existing.id) is not None:
            raise Conflict(f"dataset {dataset} already exists",
                           hint=f"`ws get {dataset} PATH` checks it out; or choose another name")
    workspace, relpath = located.workspace, located.relpath
    with ctx.workspace_lock(workspace.id), ctx.changing(workspace.id, relpath), \
            open_root(workspace.path, caller) as root_fd, pinning(ctx.db, ctx.store) as pins:
        kind = kind_of(root_fd, relpath)

        def record_version(session: Session, manifest: Manifest) -> Recorded:
            pins.settle(session)
            outcome = versions.commit(
                session, dataset_name=dataset, author=caller, message=message,
                manifest=manifest, base=None, git=git, workspace=workspace.path,
                path=relpath, kind=kind)
            tracked = wq.add_tracked_path(session, workspace_id=workspace.id, path=relpath,
                                          kind=kind, dataset_id=_dataset_id(session, dataset),
                                          version=outcome.version.number)
            record(session, actor=caller.name, action=Action.WORKSPACE_PATH_TRACK,
                   dataset=dataset, version=outcome.version.number, workspace=workspace.path,
                   path=relpath)
            return outcome, tracked

        report, (outcome, tracked) = _ingest_and_record(
            ctx, caller, (workspace.path, root_fd), relpath, kind, {}, skip_symlinks, reporter,
            _Target(dataset, pins), record_version)
        return OpResult(tracked_info(workspace, tracked, dataset),
                        pointer_info(relpath, outcome.version), report.summary,
                        version=outcome.version)


def commit(ctx: ServiceContext, caller: Caller, *, path: str, message: str,
           skip_symlinks: bool = False, base_version: int | None = None,
           git: GitInfo | None = None, reporter: Reporter = Reporter()) -> OpResult:
    _require_message(message)
    with ctx.db.read() as session:
        located = registry.locate(session, caller, path)
        tracked = _require_tracked(located)
        dataset = dq.dataset_names(session, [tracked.dataset_id])[tracked.dataset_id]
        cache = wq.tracked_files(session, tracked.id)
    _check_pointer_base(tracked.path, tracked.version, base_version)
    workspace = located.workspace
    with ctx.workspace_lock(workspace.id), ctx.changing(workspace.id, tracked.path), \
            open_root(workspace.path, caller) as root_fd, pinning(ctx.db, ctx.store) as pins:

        def record_version(session: Session, manifest: Manifest) -> Recorded:
            pins.settle(session)
            outcome = versions.commit(
                session, dataset_name=dataset, author=caller, message=message,
                manifest=_named_for_dataset(session, tracked.dataset_id, tracked.kind,
                                            manifest),
                base=tracked.version, git=git, workspace=workspace.path, path=tracked.path)
            current = wq.tracked_path(session, workspace.id, tracked.path)
            assert current is not None
            current.version = outcome.version.number
            return outcome, current

        report, (outcome, current) = _ingest_and_record(
            ctx, caller, (workspace.path, root_fd), tracked.path, tracked.kind, cache,
            skip_symlinks, reporter,
            _Target(dataset, pins, _lock_guard(ctx, caller, tracked)), record_version)
        return OpResult(tracked_info(workspace, current, dataset),
                        pointer_info(tracked.path, outcome.version), report.summary,
                        version=outcome.version, unchanged=outcome.unchanged)


@dataclass(frozen=True, slots=True)
class _Target:
    """The dataset a write goes to (for quotas), the pins that protect its objects, and a
    check of the local changes before anything is read (locks held by others)."""

    dataset: str
    pins: OperationPins
    guard: Callable[[local.LocalState], None] = field(default=lambda state: None)


def _ingest_and_record(ctx: ServiceContext, caller: Caller, root: tuple[str, int], relpath: str,
                       kind: str, cache: local.Cache, skip_symlinks: bool, reporter: Reporter,
                       target: _Target, record_version: Callable[[Session, Manifest], Recorded]
                       ) -> tuple[IngestReport, Recorded]:
    """Ingest the path, then record its version with ``record_version`` and the stat-cache
    rows in one transaction. With no ACL rows to write meanwhile (single-user mode) and up
    to ``OVERLAP_UP_TO`` changed files, the version is written while the files are
    published (``recording.py``)."""
    writer = VersionWriter(ctx.db, record_version, _stat_cache_rows)
    try:
        report, rows = _ingest_path(ctx, caller, root, relpath, kind, cache, skip_symlinks,
                                    reporter, target, writer.start)
    except BaseException:
        writer.abandon()
        raise
    if writer.started:
        return report, writer.commit(rows)
    with ctx.db.write() as session:
        recorded = record_version(session, report.manifest)
        _stat_cache_rows(session, recorded, rows)
    return report, recorded


def _stat_cache_rows(session: Session, recorded: Recorded,
                     rows: list[dict[str, Any]]) -> None:
    wq.replace_tracked_files(session, recorded[1].id, rows)


def _ingest_path(ctx: ServiceContext, caller: Caller, root: tuple[str, int], relpath: str,
                 kind: str, cache: local.Cache, skip_symlinks: bool, reporter: Reporter,
                 target: _Target, on_manifest: Callable[[Manifest], None]
                 ) -> tuple[IngestReport, list[dict[str, Any]]]:
    """Compare, admit, ingest; ``on_manifest`` (starting the version's writer) is called
    once the files are staged, if the version may be written while they are published."""
    root_path, root_fd = root
    state = local.compare(root_fd, relpath, kind, cache)
    local.require_storable(state, relpath, kind)
    local.require_supported(state, skip_symlinks, relpath)
    target.guard(state)
    changed = sorted([*state.added, *state.modified])
    admit_write(ctx.db, ctx.store, ctx.limits, dataset=target.dataset,
                incoming=sum(state.files[p].st_size for p in changed))
    known = {p: ManifestEntry(p, oid, state.files[p].st_size, bool(state.files[p].st_mode & 0o100))
             for p, oid in state.oids.items() if p not in state.modified}
    target.pins.lease.pin_all(entry.oid for entry in known.values())  # unchanged: in a kept version
    # recording.py: not while a grant writes rows, nor for so many files that the writer
    # lock would be held too long; then the version is written after the files
    overlap = not ctx.acl.writes_rows and len(changed) <= OVERLAP_UP_TO
    reporter.start(len(state.files), sum(st.st_size for st in state.files.values()))
    options = IngestOptions(owner_uid=caller.uid, adopt=ctx.may_adopt(),
                            relink=ctx.link_mode == "hardlink", lease=target.pins.lease,
                            on_staged=target.pins.write_rows,
                            on_manifest=on_manifest if overlap else lambda manifest: None,
                            before_relink=lambda oids: ctx.acl.grant(caller, target.dataset, oids),
                            relink_executables=ctx.mode == "service")
    with local.opened_target(root_fd, relpath, kind) as (base_fd, _):
        report = ingest(ctx.store, base_fd, changed, known, options, reporter.update)
    report.stats.update({path: state.files[path] for path in known})
    files = [local.LocalFile(path, st) for path, st in local.freshest(report.stats).items()]
    ctx.acl.track_copies(caller, target.dataset, root_path, root_fd,
                         lambda: materialize.placed(relpath, kind, files, report.manifest))
    rows = [local.cache_row(f.relpath, report.manifest[f.relpath].oid, f.stat,
                            size=report.manifest[f.relpath].size) for f in files]
    return report, rows


def _lock_guard(ctx: ServiceContext, caller: Caller,
                tracked: TrackedPath) -> Callable[[local.LocalState], None]:
    """Refuse before any file is touched when a changed path is locked by someone else
    (``versions.commit`` checks again when it records the version)."""
    def check(state: local.LocalState) -> None:
        changed = [*state.added, *state.modified, *state.deleted]
        if not changed:
            return
        with ctx.db.read() as session:
            dataset = dq.dataset_by_id(session, tracked.dataset_id)
            assert dataset is not None
            if tracked.kind == "file":
                changed = [entry.path for entry in dq.live_entries(session, dataset.id)]
            locks.refuse_locked_by_others(session, dataset, caller, changed)

    return check


def _named_for_dataset(session: Session, dataset_id: int, kind: str,
                       manifest: dict[str, ManifestEntry]) -> dict[str, ManifestEntry]:
    """A tracked file keeps the dataset's file name, whatever it is called locally."""
    if kind != "file" or len(manifest) != 1:
        return manifest
    live = dq.live_entries(session, dataset_id)
    if len(live) != 1:
        return manifest
    (entry,) = manifest.values()
    name = live[0].path
    return {name: ManifestEntry(name, entry.oid, entry.size, entry.executable)}


def _require_tracked(located: registry.Located) -> TrackedPath:
    if located.tracked is None:
        raise InvalidInput(f"{located.relpath or 'the workspace root'} is not tracked",
                           hint="`ws add PATH -d DATASET -m MESSAGE` starts tracking it")
    if located.inner:
        raise InvalidInput(f"commit the tracked path {located.tracked.path}, not a file inside it",
                           hint=f"`ws commit {located.tracked.path} -m MESSAGE`")
    return located.tracked


def _check_pointer_base(path: str, version: int, base_version: int | None) -> None:
    if base_version is not None and base_version != version:
        raise Conflict(
            f"{path}.ws names version {base_version} but {path} holds version {version}",
            hint=f"run `ws checkout {path}` to bring the data in line with the pointer "
            "(or restore the pointer from git), then commit")


def _require_message(message: str) -> None:
    if not message.strip():
        raise InvalidInput("a commit message is required", hint="pass -m 'what changed and why'")


def _dataset_id(session: Session, name: str) -> int:
    dataset = dq.dataset_by_name(session, name)
    assert dataset is not None
    return dataset.id

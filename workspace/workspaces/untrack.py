"""``ws untrack PATH``: stop tracking a path and take away the files the daemon put there.

For a user whose read on the dataset was revoked (their links no longer open)
or who simply no longer wants the data. Removed: each file that is still
exactly what the daemon last put there (its inode, owned by the daemon's
user); kept: the user's own files (unlocked, edited, added). The pointer
file belongs to the user's git history and is left alone. In service mode
the user's read on what no other tracked path of theirs holds is then taken
off (queued, like a revoke), and the private copies are released.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.db.models import TrackedPath
from workspace.db.queries import datasets as dq
from workspace.db.queries import workspaces as wq
from workspace.db.queries.workspaces import CachedFile
from workspace.errors import InvalidInput, NotFound
from workspace.store import safefs
from workspace.workspaces import registry
from workspace.workspaces.context import ServiceContext, open_root
from workspace.workspaces.ingest import by_directory


def untrack(ctx: ServiceContext, caller: Caller, *, path: str) -> dict[str, Any]:
    with ctx.db.read() as session:
        located = registry.locate(session, caller, path)
        tracked = _require_tracked(located)
        cache = wq.tracked_files(session, tracked.id)
        dataset = dq.dataset_names(session, [tracked.dataset_id])[tracked.dataset_id]
    workspace = located.workspace
    with ctx.workspace_lock(workspace.id), ctx.changing(workspace.id, tracked.path), \
            open_root(workspace.path, caller) as root_fd:
        removed, kept = _remove_daemon_files(ctx, root_fd, tracked, cache)
        with ctx.acl.releasing(), ctx.db.write() as session:
            row = wq.tracked_path(session, workspace.id, tracked.path)
            if row is None:
                raise NotFound(f"{tracked.path} is no longer tracked")
            ctx.acl.release(session, owner=caller, root=workspace.path, prefix=tracked.path,
                            datasets=[dataset], reason="untrack", exclude_tracked=row.id)
            session.delete(row)
            record(session, actor=caller.name, action=Action.WORKSPACE_PATH_UNTRACK,
                   dataset=dataset, version=tracked.version, workspace=workspace.path,
                   path=tracked.path, detail={"removed": removed, "kept": len(kept)})
    ctx.acl.released()
    return {"workspace": workspace.path, "path": tracked.path, "dataset": dataset,
            "version": tracked.version, "removed": removed, "kept": kept}


def _require_tracked(located: registry.Located) -> TrackedPath:
    if located.tracked is None or located.inner:
        raise InvalidInput(f"{located.relpath or 'the workspace root'} is not a tracked path",
                           hint="`ws status` lists tracked paths; untrack one as a whole")
    return located.tracked


def _remove_daemon_files(ctx: ServiceContext, root_fd: int, tracked: TrackedPath,
                         cache: dict[str, CachedFile]) -> tuple[int, list[str]]:
    """Unlink what is still the daemon's file as cached; returns (removed, kept paths)."""
    def where(relpath: str) -> str:
        return tracked.path if tracked.kind == "file" else f"{tracked.path}/{relpath}"

    removed, kept = 0, []
    for directory, members in sorted(by_directory(where(r) for r in cache).items()):
        try:
            dir_fd = safefs.open_group_dir(root_fd, directory)
        except NotFound:
            continue
        try:
            for path in members:
                rel = path if tracked.kind == "file" else path[len(tracked.path) + 1:]
                if _ours(ctx, dir_fd, posixpath.basename(path), cache[rel]):
                    safefs.unlink_at(dir_fd, posixpath.basename(path))
                    removed += 1
                elif safefs.lstat_at(dir_fd, posixpath.basename(path)) is not None:
                    kept.append(path)
        finally:
            os.close(dir_fd)
    if tracked.kind == "dir":
        _remove_empty(root_fd, tracked.path, {posixpath.dirname(r) for r in cache})
    return removed, kept


def _remove_empty(root_fd: int, tracked_path: str, inner: set[str]) -> None:
    """Remove emptied directories up to and including the tracked one, never above it."""
    try:
        parent, name = safefs.open_parent(root_fd, tracked_path)
    except NotFound:
        return
    try:
        for directory in sorted(inner, reverse=True):
            safefs.remove_empty_dirs(parent, f"{name}/{directory}" if directory else name)
    finally:
        os.close(parent)


def _ours(ctx: ServiceContext, dir_fd: int, name: str, row: CachedFile) -> bool:
    """Still the daemon's file: a link to the object, or (service mode) its private copy."""
    st = safefs.lstat_at(dir_fd, name)
    if st is None or st.st_ino != row.ino:
        return False
    obj = ctx.store.stat(row.oid)
    if obj is not None and (obj.st_dev, obj.st_ino) == (st.st_dev, st.st_ino):
        return True
    return ctx.mode == "service" and st.st_uid == os.geteuid() and st.st_nlink == 1

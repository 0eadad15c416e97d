"""Registered workspaces and the tracked paths inside them.

Paths crossing the API are absolute and symlink-free; inside the daemon a
workspace path is split into (workspace, path relative to its root), and the
file system is only ever touched relative to the root's directory fd.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.db.models import TrackedPath, Workspace
from workspace.db.queries import workspaces as q
from workspace.errors import Conflict, InvalidInput, NotFound, PermissionDenied, WorkspaceError
from workspace.store import safefs
from workspace.store.names import shown, storable


@dataclass(frozen=True, slots=True)
class Located:
    workspace: Workspace
    relpath: str
    tracked: TrackedPath | None
    inner: str | None  # the path inside ``tracked`` ("" for the tracked path itself)


def normalize(path: str) -> str:
    """An absolute, normalized path, or InvalidInput."""
    if not path or not os.path.isabs(path) or "\0" in path:
        raise InvalidInput(f"{shown(path)!r} is not an absolute path",
                           hint="the CLI sends absolute paths; pass a real path")
    if not storable(path):
        raise InvalidInput(
            f"{shown(path)} is not valid UTF-8 or contains control characters",
            hint="rename it (e.g. with `mv`); workspace and dataset paths must be plain text")
    clean = posixpath.normpath(path)
    if clean.startswith("//"):
        clean = clean[1:]
    if clean != path.rstrip("/") and path != "/":
        raise InvalidInput(f"{path!r} is not a normalized path (no '.', '..' or '//')")
    return clean


def register(session: Session, caller: Caller, path: str) -> tuple[Workspace, bool]:
    path = normalize(path)
    _require_own_directory(caller, path)
    existing = q.by_path(session, path)
    if existing is not None:
        if existing.owner_id != caller.user_id:
            raise Conflict(f"{path} is already registered by another user")
        return existing, False
    for other in q.of_owner(session, caller.user_id):
        if _inside(path, other.path) or _inside(other.path, path):
            raise Conflict(f"{path} overlaps your workspace {other.path}",
                           hint="workspaces cannot nest; use the existing one")
    workspace = q.create(session, owner_id=caller.user_id, path=path)
    record(session, actor=caller.name, action=Action.WORKSPACE_REGISTRATION_CREATE,
           workspace=path)
    return workspace, True


def _require_own_directory(caller: Caller, path: str) -> None:
    """``path`` must be a directory of the caller's, reached without symlinks.

    The daemon sees more than its callers: it may search other users' homes
    (the ACL `ws init` grants) and its own private store. Saying why a path
    fails (missing, a file, owned by uid N, a symlink, unreadable) would let
    anyone probe those places, e.g. whether an object's fan-out directory
    exists, which tells whether some content is stored. So every failure is
    one and the same answer, naming only the path the caller sent; the CLI
    explains the common mistakes from the caller's own view before asking.
    """
    try:
        fd = safefs.open_root(Path(path), owner_uid=caller.uid)
    except (WorkspaceError, OSError):
        raise PermissionDenied(
            f"cannot register {path}: it is not a directory of yours that the daemon can reach",
            hint="run `ws init` in a directory you own; on a shared server `ws init` also "
            "gives the daemon access to it (docs/install.md)") from None
    os.close(fd)


def unregister(session: Session, caller: Caller, path: str, *,
               force: bool = False) -> tuple[Workspace, list[str]]:
    """Forget the caller's workspace at ``path``; returns it and the paths it tracked.

    Tracked paths would be left as read-only links nobody can commit or unlock
    through the daemon any more, so they are refused unless ``force``.
    """
    path = normalize(path)
    workspace = q.by_path(session, path)
    if workspace is None or workspace.owner_id != caller.user_id:
        raise NotFound(f"{path} is not a workspace of yours",
                       hint="give the directory where you ran `ws init`")
    tracked = [t.path for t in q.tracked_paths(session, workspace.id)]
    if tracked and not force:
        raise Conflict(f"{path} still tracks {len(tracked)} path(s): {', '.join(tracked[:5])}",
                       hint="`ws unlock` what you want to keep editable, then pass --force; "
                       "the files stay, but are no longer tracked", details={"tracked": tracked})
    session.delete(workspace)  # tracked paths and their stat cache go with it (ON DELETE CASCADE)
    session.flush()
    record(session, actor=caller.name, action=Action.WORKSPACE_REGISTRATION_DELETE,
           workspace=path, detail={"untracked": tracked} if tracked else None)
    return workspace, tracked


def locate(session: Session, caller: Caller, path: str) -> Located:
    path = normalize(path)
    candidates = [w for w in q.of_owner(session, caller.user_id) if _inside(path, w.path)]
    if not candidates:
        raise NotFound(f"{path} is not inside a workspace of yours",
                       hint="run `ws init` in the project directory first")
    workspace = max(candidates, key=lambda w: len(w.path))
    relpath = "" if path == workspace.path else path[len(workspace.path):].lstrip("/")
    for tracked in q.tracked_paths(session, workspace.id):
        if _inside(relpath, tracked.path):
            inner = "" if relpath == tracked.path else relpath[len(tracked.path) + 1:]
            return Located(workspace, relpath, tracked, inner)
    return Located(workspace, relpath, None, None)


def tracked_under(session: Session, located: Located) -> list[TrackedPath]:
    """The tracked paths at or below ``located`` (all of them for the workspace root)."""
    if located.tracked is not None:
        return [located.tracked]
    rel = located.relpath
    return [t for t in q.tracked_paths(session, located.workspace.id)
            if rel == "" or _inside(t.path, rel)]


def check_new_tracked_path(session: Session, located: Located) -> None:
    """A new tracked path may not be the root, nor contain or sit inside another."""
    if located.relpath == "":
        raise InvalidInput("cannot track the workspace root itself",
                           hint="track a directory or file inside it, e.g. `ws add data/`")
    if located.tracked is not None:
        raise Conflict(f"{located.relpath} is inside tracked path {located.tracked.path}",
                       hint=f"`{located.tracked.path}` is tracked as a whole: commit or check "
                       "out that path, or choose a path outside it")
    for tracked in q.tracked_paths(session, located.workspace.id):
        if _inside(tracked.path, located.relpath):
            raise Conflict(f"{located.relpath} contains tracked path {tracked.path}")
    if posixpath.basename(located.relpath).endswith(".ws"):
        raise InvalidInput("names ending in .ws are pointer files and cannot be tracked")


def _inside(path: str, parent: str) -> bool:
    if parent in ("", "/"):
        return True
    return path == parent or path.startswith(parent + "/")


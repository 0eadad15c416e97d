"""Queries on workspaces, their tracked paths and the per-file stat cache."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workspace.db.models import TrackedFile, TrackedPath, User, Workspace
from workspace.db.queries.bulk import insert_rows, update_many
from workspace.db.queries.paths import starts_with


def of_owner(session: Session, owner_id: int) -> Sequence[Workspace]:
    return session.scalars(select(Workspace).where(Workspace.owner_id == owner_id)).all()


def by_path(session: Session, path: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(Workspace.path == path))


def create(session: Session, *, owner_id: int, path: str) -> Workspace:
    workspace = Workspace(owner_id=owner_id, path=path)
    session.add(workspace)
    session.flush()
    return workspace


def tracked_paths(session: Session, workspace_id: int) -> Sequence[TrackedPath]:
    stmt = select(TrackedPath).where(TrackedPath.workspace_id == workspace_id)
    return session.scalars(stmt.order_by(TrackedPath.path)).all()


def tracked_path(session: Session, workspace_id: int, path: str) -> TrackedPath | None:
    stmt = select(TrackedPath).where(
        TrackedPath.workspace_id == workspace_id, TrackedPath.path == path
    )
    return session.scalar(stmt)


def add_tracked_path(
    session: Session, *, workspace_id: int, path: str, kind: str, dataset_id: int, version: int
) -> TrackedPath:
    tracked = TrackedPath(
        workspace_id=workspace_id, path=path, kind=kind, dataset_id=dataset_id, version=version
    )
    session.add(tracked)
    session.flush()
    return tracked


class CachedFile(NamedTuple):
    """A stat-cache row as a plain tuple: status loads 100,000 of these, ORM objects cost 10x."""

    relpath: str
    oid: str
    size: int
    executable: bool
    ino: int
    mtime_ns: int
    ctime_ns: int


def tracked_files(session: Session, tracked_path_id: int) -> dict[str, CachedFile]:
    t = TrackedFile.__table__.c
    stmt = select(t.relpath, t.oid, t.size, t.executable, t.ino, t.mtime_ns, t.ctime_ns).where(
        t.tracked_path_id == tracked_path_id)
    return {row[0]: CachedFile(*row) for row in session.connection().execute(stmt)}


def replace_tracked_files(
    session: Session, tracked_path_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """The path's stat cache becomes ``rows`` (``local.cache_row``: one per file)."""
    connection = session.connection()
    connection.execute(delete(TrackedFile).where(TrackedFile.tracked_path_id == tracked_path_id))
    values = itemgetter(*_ROW_COLUMNS)
    insert_rows(session, TrackedFile, _ROW_COLUMNS, [values(row) for row in rows],
                same={"tracked_path_id": tracked_path_id})


_ROW_COLUMNS = ("relpath", "oid", "size", "executable", "ino", "mtime_ns", "ctime_ns")


def refresh_tracked_files(
    session: Session, tracked_path_id: int, rows: Sequence[dict[str, Any]]
) -> None:
    """Update the stat fields of files whose content was re-verified unchanged.

    One ``executemany``: after another user is given read on shared objects
    (their ctime moved), a status re-verifies every file of a big checkout.
    """
    update_many(session, TrackedFile, [{**row, "tracked_path_id": tracked_path_id} for row in rows],
                where=("tracked_path_id", "relpath"), values=("ino", "mtime_ns", "ctime_ns"))


_IN_CHUNK = 500


def tracked_files_at(
    session: Session, tracked_path_id: int, relpaths: Collection[str]
) -> dict[str, CachedFile]:
    """The stat-cache rows of just these paths (the watcher's dirty set), not all 100,000."""
    wanted, found = sorted(relpaths), {}
    column = TrackedFile.__table__.c.relpath
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        found.update(_cached(session, tracked_path_id, column.in_(chunk)))
    return found


def tracked_files_under(
    session: Session, tracked_path_id: int, directory: str
) -> dict[str, CachedFile]:
    """The rows below ``directory``."""
    return _cached(session, tracked_path_id,
                   starts_with(TrackedFile.__table__.c.relpath, directory + "/"))


def _cached(session: Session, tracked_path_id: int, condition: Any) -> dict[str, CachedFile]:
    t = TrackedFile.__table__.c
    stmt = select(t.relpath, t.oid, t.size, t.executable, t.ino, t.mtime_ns, t.ctime_ns).where(
        t.tracked_path_id == tracked_path_id, condition)
    return {row[0]: CachedFile(*row) for row in session.connection().execute(stmt)}


class WatchTarget(NamedTuple):
    """A tracked path with what the workspace watcher needs to open it as its owner."""

    tracked: TrackedPath
    workspace_path: str
    owner_uid: int | None


def watch_targets(
    session: Session, *, workspace_id: int | None = None, path: str | None = None
) -> list[WatchTarget]:
    """Every tracked path of every workspace (or the one at ``workspace_id``/``path``)."""
    stmt = (select(TrackedPath, Workspace.path, User.uid)
            .join(Workspace, TrackedPath.workspace_id == Workspace.id)
            .join(User, Workspace.owner_id == User.id))
    if workspace_id is not None:
        stmt = stmt.where(TrackedPath.workspace_id == workspace_id)
    if path is not None:
        stmt = stmt.where(TrackedPath.path == path)
    return [WatchTarget(*row) for row in session.execute(stmt.order_by(TrackedPath.id))]

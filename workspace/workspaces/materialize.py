"""Making a tracked path hold a given manifest: link what differs, remove what is gone.

Only files that differ are touched, so checking out a neighbouring version
costs time in proportion to the change. Each file is replaced atomically
(hardlink to a temp name, rename over), so a crash leaves either the old or
the new file, never a half-written one. Files the daemon does not know
(untracked additions) are never removed.
"""

from __future__ import annotations

import os
import posixpath
import time
from dataclasses import dataclass

from workspace.acl.service import Placed
from workspace.datasets.manifest import ManifestEntry
from workspace.errors import Conflict
from workspace.store import ObjectStore, Placement, safefs
from workspace.store.jobs import NameAppeared
from workspace.store.materialize import Method
from workspace.workspaces.ingest import Progress, Summary, by_directory
from workspace.workspaces.local import Cache, LocalFile, LocalState, freshest


@dataclass(frozen=True, slots=True)
class Plan:
    link: list[ManifestEntry]
    remove: list[str]
    unchanged: int
    occupied: frozenset[str]  # paths holding a file now: replaced atomically, not just linked


def plan(target: dict[str, ManifestEntry], state: LocalState, cache: Cache) -> Plan:
    link = [entry for path, entry in sorted(target.items())
            if not _in_place(entry, state)]
    remove = sorted(p for p in state.files if p not in target and p in cache)
    occupied = frozenset(e.path for e in link if e.path in state.files)
    return Plan(link, remove, len(target) - len(link), occupied)


def placed(tracked_path: str, kind: str, files: list[LocalFile],
           manifest: dict[str, ManifestEntry]) -> list[Placed]:
    """The files of a tracked path that hold manifest entries, by workspace-relative path
    (for the object ACLs: which of them are the daemon's private copies)."""
    def where(relpath: str) -> str:
        return tracked_path if kind == "file" else f"{tracked_path}/{relpath}"

    return [Placed(where(f.relpath), manifest[f.relpath].oid, manifest[f.relpath].executable,
                   f.stat) for f in files if f.relpath in manifest]


def conflicts(target: dict[str, ManifestEntry], state: LocalState) -> list[str]:
    """Local changes a checkout would overwrite or delete."""
    lost = [p for p in state.modified if p not in target or target[p].oid != state.oids.get(p)]
    clobbered = [p for p in state.added if p in target]
    return sorted(lost + clobbered)


def apply(store: ObjectStore, base_fd: int, work: Plan, *, prefer: str, progress: Progress
          ) -> tuple[Summary, dict[str, os.stat_result | None]]:
    """Remove and link what ``work`` says; returns the summary and the stat of each file
    placed, taken right after placing it (what the stat cache must hold: an edit made
    after that moves the file's stat away from its row), or None for a file replaced by
    someone else in between."""
    started = time.monotonic()
    summary = Summary(unchanged=work.unchanged)
    _remove(base_fd, work.remove, summary)
    placed = _link_all(store, base_fd, work, prefer, summary, progress)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary, placed


def in_place_after(target: dict[str, ManifestEntry], before: LocalState,
                   placed: dict[str, os.stat_result | None]) -> list[LocalFile]:
    """The files of ``target`` on disk after :func:`apply`: those it placed (their stat
    just after; none for one replaced by someone else meanwhile: the daemon vouches only
    for what it put there) and those already in place (their stat when compared), by
    path; each the latest stat of its inode (:func:`local.freshest`: linking the same
    object again moves its ctime)."""
    found: dict[str, os.stat_result] = {}
    for path in target:
        st = placed[path] if path in placed else before.files.get(path)
        if st is not None:
            found[path] = st
    return [LocalFile(path, st) for path, st in freshest(found).items()]


def _link_all(store: ObjectStore, base_fd: int, work: Plan, prefer: str,
              summary: Summary, progress: Progress
              ) -> dict[str, os.stat_result | None]:
    """Link every entry, directory by directory (on the store's workers when there are
    many: ``store/workers.py``); a name that appeared meanwhile is a Conflict."""
    by_path = {e.path: e for e in work.link}
    directories = sorted(by_directory(by_path).items())
    groups = [(directory, _placements([by_path[p] for p in members], work.occupied))
              for directory, members in directories]
    placed: dict[str, os.stat_result | None] = {}
    done_bytes = 0
    try:
        for index, linked in store.link_dirs(base_fd, groups, prefer=_method(prefer)):
            for path, (how, st) in zip(directories[index][1], linked, strict=False):
                if how == "hardlink":
                    summary.linked += 1
                else:
                    summary.copied += 1
                placed[path] = st
                done_bytes += by_path[path].size
            progress(summary.linked + summary.copied, done_bytes)
    except NameAppeared as clash:
        path = directories[clash.group][1][clash.entry]
        raise Conflict(f"{path} appeared while it was being checked out",
                       hint="nothing of yours was overwritten; run the command again") from None
    return placed


def _placements(entries: list[ManifestEntry], occupied: frozenset[str]) -> list[Placement]:
    return [Placement(e.path.rpartition("/")[2], e.oid, e.size, e.executable,
                      e.path in occupied) for e in entries]


def _method(prefer: str) -> Method:
    return "copy" if prefer == "copy" else "hardlink"


def _in_place(entry: ManifestEntry, state: LocalState) -> bool:
    st = state.files.get(entry.path)
    if st is None or state.oids.get(entry.path) != entry.oid:
        return False
    return bool(st.st_mode & 0o100) == entry.executable


def _remove(base_fd: int, paths: list[str], summary: Summary) -> None:
    for directory, members in sorted(by_directory(paths).items()):
        dir_fd = safefs.open_group_dir(base_fd, directory)
        try:
            for path in members:
                safefs.unlink_at(dir_fd, posixpath.basename(path))
                summary.removed += 1
        finally:
            os.close(dir_fd)
        if directory:
            safefs.remove_empty_dirs(base_fd, directory)

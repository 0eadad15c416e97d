"""Watches on the inodes of linked files, so that status need not stat them every time.

A file with more than one link can be written through a name in a directory
nobody watches (``tree.py``: ``polled``); for a daemon run as root that is
every file linked from the store. Stat-ing them all at every status costs as
much as a full scan. A watch on the file's inode itself hears of every write
or truncate, whichever name was used (``inotify.FILE_MASK``, which says why
not of a chmod).

The protocol, after a full scan was adopted (``WatchedTree.finish``), for each
polled path: open it ``O_PATH|O_NOFOLLOW`` in its directory, watch that inode
(or find it watched already), then ``fstat`` it. If inode, size, mtime and
ctime are still what the scan saw, nothing changed between the scan and the
watch, and every later change raises an event: the path leaves ``polled``
and is *held*. Otherwise it stays polled. Only a verified path is ever
mapped, and a held path is trusted only while its name still leads to the
watched inode (:meth:`FileWatches.holds`, checked against a fresh stat at
each scan and status), so a rename or replacement of the name, seen by the
directory watch, never leaves a change unseen.

Watches live across full scans (the inode is the same, so they stay true)
and go when their path does, when the kernel drops them (``IN_IGNORED``:
the inode was freed), or when the tree gives up watching. File watches may
use the budget only up to ``DIRECTORY_RESERVE`` short of it: directories,
without which nothing can be watched, keep the rest.
"""

from __future__ import annotations

import os
import posixpath
import stat as stat_mod
from collections.abc import Iterable
from typing import TYPE_CHECKING

from workspace.errors import WorkspaceError
from workspace.store import safefs
from workspace.watch.inotify import WatchFailed
from workspace.workspaces.ingest import by_directory
from workspace.workspaces.local import LocalState

if TYPE_CHECKING:
    from workspace.watch.tree import WatchedTree

Inode = tuple[int, int]

DIRECTORY_RESERVE = 0.1
"""The share of the watch budget file watches leave to directories."""

_OPEN_FLAGS = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC


class FileWatches:
    """Which paths of one tree are held through a watch on their inode (hub lock held)."""

    def __init__(self) -> None:
        self.of_path: dict[str, tuple[int, Inode]] = {}
        self.paths_of: dict[int, set[str]] = {}
        self.wd_of: dict[Inode, int] = {}

    def holds(self, path: str, st: os.stat_result) -> bool:
        """Is ``path``, which ``st`` describes now, held by a verified watch on that inode?"""
        known = self.of_path.get(path)
        return known is not None and known[1] == (st.st_dev, st.st_ino)

    def hold(self, path: str, wd: int, inode: Inode) -> list[int]:
        """Map ``path`` to the watch ``wd`` on ``inode``; returns watches left unused."""
        unused = self.forget([path])
        self.of_path[path] = (wd, inode)
        self.paths_of.setdefault(wd, set()).add(path)
        self.wd_of[inode] = wd
        return [w for w in unused if w != wd]

    def forget(self, paths: Iterable[str]) -> list[int]:
        """Unmap ``paths``; returns the watches no path maps any more (to remove)."""
        unused = []
        for path in paths:
            known = self.of_path.pop(path, None)
            if known is None:
                continue
            wd, inode = known
            left = self.paths_of[wd]
            left.discard(path)
            if not left:
                del self.paths_of[wd], self.wd_of[inode]
                unused.append(wd)
        return unused

    def forget_under(self, directory: str) -> list[int]:
        prefix = directory + "/"
        return self.forget([p for p in self.of_path if p.startswith(prefix)])

    def forget_all(self) -> list[int]:
        return self.forget(list(self.of_path))

    def gone(self, wd: int) -> set[str]:
        """The kernel dropped ``wd`` (its inode was freed): the paths it held, now unmapped."""
        paths = set(self.paths_of.get(wd, ()))
        self.forget(paths)
        return paths


def watch_polled(tree: WatchedTree, state: LocalState) -> int:
    """Hold what ``tree`` polls after the full scan ``state`` (``reconcile_lock`` held).

    Returns how many paths it now holds. A file that cannot be opened or
    watched (gone, replaced, unreadable to the daemon, the budget used up)
    simply stays polled.
    """
    with tree.hub.lock:
        if tree.base_fd < 0 or tree.unwatched:
            return 0
        base, generation, todo = os.dup(tree.base_fd), tree.generation, sorted(tree.polled)
    try:
        for directory, paths in by_directory(todo).items():
            if not _watch_in(tree, base, directory, paths, state, generation):
                break
    finally:
        os.close(base)
    with tree.hub.lock:
        return len(tree.files.of_path)


def _watch_in(tree: WatchedTree, base: int, directory: str, paths: list[str],
              state: LocalState, generation: int) -> bool:
    """Watch ``paths`` (all in ``directory``); False once the budget is used up."""
    try:
        dir_fd = safefs.open_group_dir(base, directory)
    except (WorkspaceError, OSError):
        return True  # gone or swapped: its files stay polled
    try:
        return all(_watch_one(tree, dir_fd, path, state.files[path], generation)
                   for path in paths)
    finally:
        os.close(dir_fd)


def _watch_one(tree: WatchedTree, dir_fd: int, path: str, scanned: os.stat_result,
               generation: int) -> bool:
    try:
        fd = os.open(posixpath.basename(path), _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError:
        return True
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode) or not _same_inode(st, scanned):
            return True
        return _hold_verified(tree, fd, path, scanned, generation)
    finally:
        os.close(fd)


def _hold_verified(tree: WatchedTree, fd: int, path: str, scanned: os.stat_result,
                   generation: int) -> bool:
    """Watch the inode open as ``fd``, then check it did not change since the scan."""
    hub, inode = tree.hub, (scanned.st_dev, scanned.st_ino)
    with hub.lock:
        if tree.generation != generation or path not in tree.polled:
            return True  # a new scan or an event came first: leave it to them
        wd = tree.files.wd_of.get(inode)
        added = wd is None
        if wd is None:
            if hub.in_use >= hub.budget * (1 - DIRECTORY_RESERVE):
                return False
            try:
                wd = hub.inotify.add_file(fd, tree, tree.listener_id)
            except WatchFailed:
                return True
            hub.in_use += 1
        if _unchanged(os.fstat(fd), scanned):
            tree.release_watches(tree.files.hold(path, wd, inode))
            tree.polled.discard(path)
        elif added:
            tree.release_watches([wd])
    return True


def _same_inode(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _unchanged(now: os.stat_result, scanned: os.stat_result) -> bool:
    return _same_inode(now, scanned) and (now.st_size, now.st_mtime_ns, now.st_ctime_ns) == (
        scanned.st_size, scanned.st_mtime_ns, scanned.st_ctime_ns)

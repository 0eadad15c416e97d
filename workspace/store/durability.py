"""Making writes durable: one ``syncfs`` per batch instead of one ``fsync`` per file.

Committing thousands of small files with an fsync each costs one journal
commit per file; ``syncfs`` flushes the whole store filesystem once, which is
what design.md rule 2 allows ("one syncfs per batch is fine"). Python has no
``os.syncfs``, so it is called through libc; ``os.sync`` (all filesystems) is
the fallback when the symbol is missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Callable

_Syncfs = Callable[[int], int]


def _load_syncfs() -> _Syncfs | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except OSError:
        return None
    func = getattr(libc, "syncfs", None)
    if func is None:
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return func  # type: ignore[no-any-return]


_SYNCFS = _load_syncfs()


def syncfs(fd: int) -> None:
    """Flush every dirty page and inode of the filesystem holding ``fd`` to stable storage."""
    if _SYNCFS is None:
        os.sync()
        return
    if _SYNCFS(fd) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def fsync_dir(fd: int) -> None:
    """Make the names created or removed in directory ``fd`` durable."""
    os.fsync(fd)

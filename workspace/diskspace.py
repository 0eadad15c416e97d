"""A full file system, said as such: which one, how much is free, what to do.

``ENOSPC`` (no space, or no inodes) and ``EDQUOT`` (a quota) can come from
any write, ``copy_file_range``, ``fsync``, ``link``, ``mkdir`` or ``rename``
in the store or a workspace, and SQLite reports them as "database or disk is
full". Each place that can hit them turns them into :class:`DiskFull` here,
naming the mount point (from ``/proc/self/mountinfo``, by device and longest
matching path) and its free bytes and inodes as this process sees them.
Shared by ``store`` and ``db``, so it imports nothing of ours but ``errors``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from workspace.errors import DiskFull

NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
MOUNTINFO = "/proc/self/mountinfo"
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def is_no_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in NO_SPACE


@contextmanager
def space_errors(where: int | str, what: str, *, needed: int | None = None) -> Iterator[None]:
    """Raise :class:`DiskFull` instead of an ``ENOSPC``/``EDQUOT`` from the block.

    ``where`` (an fd or a path) is on the file system that filled up; ``what``
    says what was being written ("the store", "the workspace /home/a/p").
    Cleanup in the block (``except``/``finally``) runs before the error leaves it.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno not in NO_SPACE:
            raise
        raise disk_full(where, what, needed=needed, quota=exc.errno == errno.EDQUOT) from None


def disk_full(where: int | str, what: str, *, needed: int | None = None,
              quota: bool = False) -> DiskFull:
    """The error for a full file system holding ``where`` (an fd or a path)."""
    path, device = _locate(where)
    mount = mount_point(path, device) if path is not None else None
    free, inodes = _free(where)
    shown = mount or path or "its file system"
    why = "the disk quota is exceeded" if quota else "no space is left"
    message = f"{why} on {shown} ({what}): {human(free)} free"
    if needed is not None:
        message += f", writing {human(needed)}"
    if inodes == 0:
        message += "; no free inodes either"
    action = f"free space in your quota on {shown} or ask for a larger one" if quota else (
        f"free space on {shown}")
    return DiskFull(
        message,
        hint=f"{action}, or move {what} to a larger file system, then run the command "
        "again; your files were left as they were",
        details={"mount": mount, "path": path, "free_bytes": free, "free_inodes": inodes,
                 "needed_bytes": needed, "quota": quota})


def mount_point(path: str, device: int | None) -> str | None:
    """The mount point holding ``path``: the longest mounted directory over it on ``device``.

    Without a match on the device (btrfs subvolumes report their own), the
    longest mounted directory over ``path`` on any device.
    """
    mounts = list(_mounts())
    same_device = [m for m, dev in mounts if dev == device]
    return _longest_over(path, same_device) or _longest_over(path, [m for m, _ in mounts])


def _longest_over(path: str, mounted: list[str]) -> str | None:
    over = [m for m in mounted if path == m or path.startswith(m.rstrip("/") + "/")]
    return max(over, key=len, default=None)


def human(size: int | None) -> str:
    if size is None:
        return "an unknown amount"
    value, unit = float(size), _UNITS[0]
    for unit in _UNITS:
        if value < 1024 or unit == _UNITS[-1]:
            break
        value /= 1024
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def _locate(where: int | str) -> tuple[str | None, int | None]:
    try:
        if isinstance(where, int):
            return os.readlink(f"/proc/self/fd/{where}"), os.fstat(where).st_dev
        return os.path.abspath(where), os.stat(where).st_dev
    except OSError:
        return (None if isinstance(where, int) else str(where)), None


def _free(where: int | str) -> tuple[int | None, int | None]:
    """Free bytes and inodes as this process may use them (root may use the reserve)."""
    try:
        st = os.fstatvfs(where) if isinstance(where, int) else os.statvfs(where)
    except OSError:
        return None, None
    root = os.geteuid() == 0
    blocks = st.f_bfree if root else st.f_bavail
    return blocks * st.f_frsize, st.f_ffree if root else st.f_favail


def _mounts() -> Iterator[tuple[str, int]]:
    """(mount point, device) of every mount, from ``/proc/self/mountinfo``."""
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="surrogateescape") as handle:
            lines = handle.readlines()
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if len(fields) < 5 or ":" not in fields[2]:
            continue
        major, minor = (int(part) for part in fields[2].split(":"))
        yield _unescape(fields[4]), os.makedev(major, minor)


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field

"""`ws unlock`: replace store hardlinks by private, writable copies.

A file in a tracked path is a hardlink to an immutable store object; writing
it in place would change the object for everyone. Unlocking gives the user a
copy of their own (same bytes, same times) in place of the link, so edits
touch only their workspace. It runs in the user's own process because only
that process can create a file the user owns (in service mode the daemon runs
as another user). Symlinks are never followed: they are reported and left.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass, field

from workspace.client.paths import shown
from workspace.errors import NotFound, PermissionDenied, WorkspaceError

_CHUNK = 1 << 30


@dataclass(slots=True)
class UnlockReport:
    """Absolute paths, by what happened to them."""

    unlocked: list[str] = field(default_factory=list)
    already_unlocked: list[str] = field(default_factory=list)
    skipped_symlinks: list[str] = field(default_factory=list)


def unlock(path: str, report: UnlockReport) -> None:
    """Unlock ``path`` (a file, or every file under a directory) into ``report``."""
    mode = _lstat(path).st_mode
    if stat.S_ISDIR(mode):
        for directory, subdirs, files in os.walk(path):
            names = files + [
                name for name in subdirs if os.path.islink(os.path.join(directory, name))
            ]
            for name in sorted(names):
                _visit(os.path.join(directory, name), report)
    else:
        _visit(path, report)


def _visit(path: str, report: UnlockReport) -> None:
    info = _lstat(path)
    if stat.S_ISLNK(info.st_mode):
        report.skipped_symlinks.append(path)
    elif not stat.S_ISREG(info.st_mode):
        return
    elif info.st_nlink > 1 or not info.st_mode & stat.S_IWUSR:
        _private_copy(path, info)
        report.unlocked.append(path)
    else:
        report.already_unlocked.append(path)


def _private_copy(path: str, info: os.stat_result) -> None:
    """Copy ``path`` beside itself (new inode, owned by us), then rename it over the link."""
    directory, name = os.path.split(path)
    mode = 0o755 if info.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH) else 0o644
    try:
        source = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise _failed(path, exc) from exc
    try:
        _same_file_or_fail(path, info, os.fstat(source))
        _copy_into_place(source, path, directory, name, mode, info)
    finally:
        os.close(source)


def _copy_into_place(
    source: int, path: str, directory: str, name: str, mode: int, info: os.stat_result
) -> None:
    try:
        target, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".unlock", dir=directory)
    except OSError as exc:
        raise _failed(path, exc) from exc
    try:
        with os.fdopen(target, "wb") as handle:
            _copy_bytes(source, handle.fileno())
            os.fchmod(handle.fileno(), mode)
            os.utime(handle.fileno(), ns=(info.st_atime_ns, info.st_mtime_ns))
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise _failed(path, exc) from exc


def _copy_bytes(source: int, target: int) -> None:
    offset = 0
    while sent := os.sendfile(target, source, offset, _CHUNK):
        offset += sent


def _same_file_or_fail(path: str, seen: os.stat_result, opened: os.stat_result) -> None:
    """The file must not have been swapped between looking at it and opening it."""
    if (seen.st_dev, seen.st_ino) != (opened.st_dev, opened.st_ino):
        raise WorkspaceError(
            f"{shown(path)} changed while it was being unlocked",
            hint="run `ws unlock` again once nothing else writes there",
        )


def _lstat(path: str) -> os.stat_result:
    try:
        return os.lstat(path)
    except FileNotFoundError as exc:
        raise NotFound(
            f"{shown(path)} does not exist", hint="`ws status` lists tracked paths"
        ) from exc
    except OSError as exc:
        raise _failed(path, exc) from exc


def _failed(path: str, exc: OSError) -> WorkspaceError:
    message = f"cannot unlock {shown(path)}: {exc.strerror or exc}"
    if isinstance(exc, PermissionError):
        return PermissionDenied(message, hint="you need write access to the file's directory")
    return WorkspaceError(message, hint="files unlocked before this one stay unlocked")

"""Symlink-safe, fd-relative file operations inside users' workspaces (design.md rule 4).

The daemon acts on paths that users control, with more rights than they have.
Resolving such a path by name would let a user swap a directory for a symlink
to somewhere they cannot write (``/etc``, the store) and have the daemon
write there for them. So every path is walked one component at a time with
``O_NOFOLLOW|O_DIRECTORY`` relative to the previous directory fd, every
operation is relative to a directory fd, and a symlink anywhere is refused,
never followed. ``O_NOFOLLOW`` alone protects only the last component.

Linux reports a symlink opened with ``O_DIRECTORY|O_NOFOLLOW`` as ENOTDIR,
not ELOOP, so failures are classified with an ``lstat`` of the component.
Every function that returns an fd hands ownership to the caller.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from workspace.errors import InvalidInput, NotFound, PermissionDenied
from workspace.store.scanning import ScannedFile, ScanResult, scan

__all__ = [
    "TEMP_PREFIX",
    "ScanResult",
    "ScannedFile",
    "lstat_at",
    "open_dir",
    "open_parent",
    "open_regular_file",
    "open_root",
    "remove_empty_dirs",
    "scan",
    "split_relpath",
    "temp_name",
    "unlink_at",
    "validate_name",
    "write_file_atomic",
]

TEMP_PREFIX = ".ws-tmp-"
"""Names the daemon uses for its own temporaries in workspaces; scans skip them."""

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# Ancestors of a workspace are only passed through: O_PATH needs search (x) permission on
# them, not read, so a service user granted `--x` on a 0700 home can reach a workspace in it.
_PASS_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_SYMLINK_HINT = "replace the symlink with a real directory or file, or move the data elsewhere"


def temp_name() -> str:
    """A fresh, unguessable temporary name that :func:`scan` will not report."""
    return TEMP_PREFIX + secrets.token_hex(8)


def split_relpath(relpath: str) -> list[str]:
    """Validate a workspace-relative POSIX path and split it; ``""`` is the root itself."""
    if relpath == "":
        return []
    if "\0" in relpath:
        raise InvalidInput(f"path {relpath!r} contains a NUL byte", hint="use a plain file path")
    if relpath.startswith("/"):
        raise InvalidInput(
            f"path {relpath!r} is absolute", hint="give a path relative to the workspace root"
        )
    parts = relpath.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise InvalidInput(
                f"path {relpath!r} has an empty, '.' or '..' component",
                hint="give a normalized path inside the workspace, like 'data/train.csv'",
            )
    return parts


def validate_name(name: str) -> str:
    """Check ``name`` is one plain directory entry name (no slash, not '.' or '..')."""
    if name and "/" not in name and "\0" not in name and name not in (".", ".."):
        return name  # the common case, checked without splitting (once per file linked)
    if len(split_relpath(name)) != 1:
        raise InvalidInput(f"{name!r} is not a single file name", hint="pass one path component")
    return name


def open_root(path: Path, *, owner_uid: int | None = None) -> int:
    """Open the absolute directory ``path`` with no symlink anywhere along it.

    With ``owner_uid``, the directory itself must belong to that user: a
    workspace is only ever served to its owner.
    """
    if not path.is_absolute():
        raise InvalidInput(f"{path} is not an absolute path", hint="give the full workspace path")
    parts = _root_parts(path)
    if not parts:
        return os.open("/", DIR_FLAGS)
    above = _walk(os.open("/", _PASS_FLAGS), parts[:-1], prefix="/", create=False,
                  flags=_PASS_FLAGS)
    fd = _walk(above, parts[-1:], prefix=str(path.parent).rstrip("/") + "/", create=False)
    if owner_uid is not None:
        try:
            _check_owner(fd, str(path), owner_uid)
        except BaseException:
            os.close(fd)
            raise
    return fd


def open_dir(root_fd: int, relpath: str, *, create: bool = False) -> int:
    """Open the directory ``relpath`` under ``root_fd``, refusing symlinks on the way.

    With ``create``, missing directories are made (mode 0o777, narrowed by the
    umask and default ACLs, as ``mkdir -p`` would).
    """
    parts = split_relpath(relpath)
    return _walk(os.open(".", DIR_FLAGS, dir_fd=root_fd), parts, prefix="", create=create)


def open_group_dir(base_fd: int, directory: str, *, create: bool = False) -> int:
    """:func:`open_dir` for a group of files by directory (``ingest.by_directory``):
    ``""``, the group at the top, is ``base_fd`` itself, duplicated."""
    return os.dup(base_fd) if directory == "" else open_dir(base_fd, directory, create=create)


def open_parent(root_fd: int, relpath: str, *, create: bool = False) -> tuple[int, str]:
    """Open the directory that holds ``relpath``; returns (its fd, the final name)."""
    parts = split_relpath(relpath)
    if not parts:
        raise InvalidInput("the workspace root has no parent", hint="name a file in the workspace")
    return open_dir(root_fd, "/".join(parts[:-1]), create=create), parts[-1]


def lstat_at(dir_fd: int, relpath: str) -> os.stat_result | None:
    """``lstat`` of ``relpath`` under ``dir_fd``; None if it (or a parent) does not exist."""
    if relpath == "":
        return os.fstat(dir_fd)
    if "/" not in relpath:  # one name in dir_fd: no parent to open (once per file relinked)
        try:
            return os.stat(validate_name(relpath), dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None
    try:
        parent, name = open_parent(dir_fd, relpath)
    except NotFound:
        return None
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None
    finally:
        os.close(parent)


def open_regular_file(
    dir_fd: int, name: str, *, owner_uid: int | None
) -> tuple[int, os.stat_result]:
    """Open ``name`` in ``dir_fd`` for reading, only if it is a regular file (of ``owner_uid``).

    The entry is ``lstat``-ed first so a device node is never opened (opening
    one can have side effects); O_NONBLOCK covers a FIFO swapped in after that
    check, and the fd is re-checked with ``fstat`` before it is trusted.
    """
    validate_name(name)
    try:
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        raise NotFound(f"{name} does not exist", hint="check the path and try again") from None
    _require_regular(before, name)
    fd = _open_file(dir_fd, name)
    try:
        st = os.fstat(fd)
        _require_regular(st, name)
        if (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
            raise PermissionDenied(f"{name} changed while being opened", hint="retry when idle")
        if owner_uid is not None:
            _check_owner(fd, name, owner_uid)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def unlink_at(dir_fd: int, name: str) -> bool:
    """Remove the entry ``name`` (never a directory) in ``dir_fd``; False if it was not there."""
    validate_name(name)
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        return False
    except IsADirectoryError:
        raise InvalidInput(f"{name} is a directory", hint="remove its contents first") from None
    return True


def remove_empty_dirs(root_fd: int, relpath: str) -> int:
    """Remove ``relpath`` and then each parent while empty, never the root; returns the count."""
    parts = split_relpath(relpath)
    fds = _open_chain(root_fd, parts)
    removed = 0
    try:
        for depth in range(len(fds) - 1, 0, -1):
            if not _rmdir_if_empty(fds[depth - 1], parts[depth - 1]):
                break
            removed += 1
    finally:
        for fd in fds:
            os.close(fd)
    return removed


def write_file_atomic(dir_fd: int, name: str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``name`` in ``dir_fd`` with ``data``: readers see the old or the new file, whole."""
    validate_name(name)
    tmp = temp_name()
    fd = os.open(tmp, _NEW_FILE_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        _write_all(fd, data)
        os.fchmod(fd, mode)
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        _unlink_quietly(dir_fd, tmp)
        raise
    os.fsync(dir_fd)


def _root_parts(path: Path) -> list[str]:
    parts = list(path.parts[1:])
    if ".." in parts:
        raise InvalidInput(f"{path} contains '..'", hint="give a normalized absolute path")
    return parts


def _walk(fd: int, parts: list[str], *, prefix: str, create: bool,
          flags: int = DIR_FLAGS) -> int:
    """Descend from ``fd`` through ``parts``; consumes ``fd``, returns the last one."""
    for index, part in enumerate(parts):
        shown = prefix + "/".join(parts[: index + 1])
        try:
            child = _open_child(fd, part, shown, create=create, flags=flags)
        finally:
            os.close(fd)
        fd = child
    return fd


def _open_child(parent: int, name: str, shown: str, *, create: bool,
                flags: int = DIR_FLAGS) -> int:
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise NotFound(f"{shown} does not exist", hint="check the path") from None
    except OSError as exc:
        raise _classify_open_error(parent, name, shown, exc) from None
    _mkdir_quietly(parent, name)
    return _open_child(parent, name, shown, create=False, flags=flags)


def _classify_open_error(parent: int, name: str, shown: str, exc: OSError) -> Exception:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(
            f"cannot open {shown}: {exc.strerror}", hint="check its permissions"
        )
    if exc.errno not in (errno.ENOTDIR, errno.ELOOP):
        return exc
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except OSError:
        return exc
    if stat.S_ISLNK(mode):
        return PermissionDenied(
            f"{shown} is a symbolic link; workspace paths must not contain symlinks",
            hint=_SYMLINK_HINT,
        )
    return NotFound(f"{shown} is not a directory", hint="remove or rename the file in the way")


def _mkdir_quietly(parent: int, name: str) -> None:
    # Created concurrently is fine: the open that follows checks what it is.
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=parent)


def _check_owner(fd: int, shown: str, owner_uid: int) -> None:
    uid = os.fstat(fd).st_uid
    if uid != owner_uid:
        raise PermissionDenied(
            f"{shown} is owned by uid {uid}, not by uid {owner_uid}",
            hint="only the owner's own files and directories can be used",
        )


def _require_regular(st: os.stat_result, name: str) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    if stat.S_ISLNK(st.st_mode):
        why = "a symbolic link; workspace paths must not contain symlinks"
    elif stat.S_ISDIR(st.st_mode):
        why = "a directory"
    else:
        why = "a special file (FIFO, socket or device)"
    raise PermissionDenied(f"{name} is {why}", hint="only regular files can be stored")


def _open_file(dir_fd: int, name: str) -> int:
    try:
        return os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise NotFound(f"{name} does not exist", hint="check the path and try again") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PermissionDenied(
                f"{name} is a symbolic link; workspace paths must not contain symlinks",
                hint=_SYMLINK_HINT,
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise PermissionDenied(f"cannot read {name}", hint="check its permissions") from None
        raise


def _open_chain(root_fd: int, parts: list[str]) -> list[int]:
    """fds of the root and of each existing directory along ``parts`` (stops at the first gap)."""
    fds = [os.open(".", DIR_FLAGS, dir_fd=root_fd)]
    for part in parts:
        try:
            fds.append(os.open(part, DIR_FLAGS, dir_fd=fds[-1]))
        except OSError:
            break
    return fds


def _rmdir_if_empty(parent: int, name: str) -> bool:
    try:
        os.rmdir(name, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT, errno.ENOTDIR, errno.EBUSY):
            return False
        raise
    return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _unlink_quietly(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)

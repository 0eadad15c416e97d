"""POSIX ACLs on a workspace: letting the service user in (`ws init`) and out (`ws deinit`).

On a shared server the daemon runs as its own Unix user. To ingest a user's
files it must read them, and to link objects in (and relink ingested files)
it must create and rename entries in the user's directories. The user grants
exactly that to exactly that one user, with a POSIX ACL:

* every directory of the workspace: ``user:SERVICE:rwx``, plus *default*
  entries ``user:SERVICE:rwx`` and ``user:OWNER:rwx``, so new files and
  subdirectories inherit the grant (the owner's own entry keeps directories
  that the daemon creates during a checkout, which the service user owns,
  writable by the owner);
* every existing regular file: ``user:SERVICE:r--`` (read, to ingest it);
* each ancestor directory the user owns that the service user could not
  otherwise search: ``user:SERVICE:--x`` (search, not list), so the daemon can
  reach the workspace at all (Debian home directories are 0700).

With a default ACL the kernel ignores the umask for files created in that
directory; the default group and other entries are therefore derived from the
directory's mode narrowed by the user's current umask, so new files are no
more open than they were without the grant.

The ACLs are read and written as the kernel's extended attributes through
``workspace.posixacl``, the codec the daemon uses for store objects too (no C
binding, no ``setfacl`` on the server). Only entries the caller owns are
changed (the daemon's own objects and directories are left alone); symlinks
are never followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workspace import posixacl
from workspace.errors import InvalidInput, PermissionDenied
from workspace.posixacl import (
    ACCESS,
    DEFAULT,
    MASK,
    NO_ID,
    OTHER,
    RWX,
    USER,
    Acl,
    R,
    X,
    decode,
    encode,
    from_mode,
    granted,
    has_named,
    revoked,
    with_mask,
)

__all__ = ["ACCESS", "DEFAULT", "USER", "X", "decode", "encode", "with_mask"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

AclChange = Callable[[Acl], Acl]


@dataclass(slots=True)
class Changed:
    """What a grant or revocation touched (for the one line `ws init`/`ws deinit` print)."""

    directories: int = 0
    files: int = 0
    ancestors: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # directories we could not enter


def can_search(acl: Acl, uid: int) -> bool:
    """Whether ``uid`` (not the owner, not known to be in the group) may search a directory."""
    named = acl.get((USER, uid))
    if named is not None:
        return bool(named & acl.get((MASK, NO_ID), RWX) & X)
    return bool(acl[(OTHER, NO_ID)] & X)


def current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


@dataclass(frozen=True, slots=True)
class ServiceUser:
    """The Unix user the daemon runs as, when that is not the caller."""

    name: str
    uid: int


def service_user(health: dict[str, Any]) -> ServiceUser | None:
    """From `GET /v1/health`: the daemon's user if it needs a grant, else None."""
    daemon = health.get("daemon")
    if not isinstance(daemon, dict) or not isinstance(daemon.get("uid"), int):
        return None  # an older daemon that does not say: assume it is us
    if daemon["uid"] == os.geteuid():
        return None
    return ServiceUser(str(daemon.get("user") or daemon["uid"]), daemon["uid"])


@contextmanager
def granted_for(service: ServiceUser | None, root: Path) -> Iterator[Changed | None]:
    """Grant ``service`` access to ``root`` for the block (registration); keep it on success.

    The daemon opens the directory to register it, so the grant comes first. If
    the block fails, a grant this call made is taken back.
    """
    if service is None:
        yield None
        return
    fresh = not has_grant(root, service.uid)
    changed = grant_tree(root, service.uid, umask=current_umask())
    changed.ancestors = grant_ancestors(root, service.uid)
    try:
        yield changed
    except BaseException:
        if fresh:
            revoke_tree(root, service.uid)
            revoke_ancestors(root, service.uid, keep_for=[], only=changed.ancestors)
        raise


def revoke_all(service: ServiceUser | None, root: Path, keep_for: list[str]) -> Changed | None:
    """`ws deinit`: the tree's grant, and ancestors' search grants no other workspace needs."""
    if service is None:
        return None
    changed = revoke_tree(root, service.uid)
    changed.ancestors = revoke_ancestors(root, service.uid, keep_for=keep_for)
    return changed


def grant_tree(root: Path, service_uid: int, *, umask: int) -> Changed:
    """Give ``service_uid`` access to the workspace ``root`` (the ancestors: grant_ancestors)."""
    changed = Changed()
    owner = os.geteuid()
    root_fd = _open_own_root(root, owner)
    try:
        for dir_fd, path, files in _walk(root_fd, str(root), changed):
            if _own(os.fstat(dir_fd), owner):
                _grant_dir(dir_fd, path, service_uid, owner, umask)
                changed.directories += 1
            changed.files += _apply_files(dir_fd, path, files, owner,
                                          lambda acl: granted(acl, service_uid, R))
    finally:
        os.close(root_fd)
    return changed


def revoke_tree(root: Path, service_uid: int) -> Changed:
    """Take back what :func:`grant_tree` gave (the ancestors are :func:`revoke_ancestors`)."""
    changed = Changed()
    owner = os.geteuid()
    root_fd = _open_own_root(root, owner)
    try:
        for dir_fd, path, files in _walk(root_fd, str(root), changed):
            if _own(os.fstat(dir_fd), owner):
                _revoke_dir(dir_fd, path, service_uid, owner)
                changed.directories += 1
            changed.files += _apply_files(dir_fd, path, files, owner,
                                          lambda acl: revoked(acl, service_uid))
    finally:
        os.close(root_fd)
    return changed


def has_grant(root: Path, service_uid: int) -> bool:
    """Whether ``root`` already carries the inherited grant (so a failed init keeps it)."""
    try:
        default = _read(str(root), DEFAULT, None)
    except (InvalidInput, FileNotFoundError, NotADirectoryError):
        return False
    return default is not None and (USER, service_uid) in default


def grant_ancestors(root: Path, service_uid: int) -> list[str]:
    """Search access on each of the user's own ancestors that the service user lacks."""
    done = []
    for parent in _own_ancestors(root):
        acl = _read_access(str(parent), parent.lstat().st_mode)
        if not can_search(acl, service_uid):
            _write(str(parent), ACCESS, granted(acl, service_uid, X))
            done.append(str(parent))
    return done


def revoke_ancestors(root: Path, service_uid: int, keep_for: list[str],
                     only: list[str] | None = None) -> list[str]:
    """Remove the search-only grants on ``root``'s ancestors not needed by ``keep_for``."""
    done = []
    for parent in _own_ancestors(root):
        if any(_inside(Path(other), parent) for other in keep_for):
            continue
        if only is not None and str(parent) not in only:
            continue
        acl = _read_access(str(parent), parent.lstat().st_mode)
        if acl.get((USER, service_uid)) == X:  # exactly what grant_ancestors adds
            _write(str(parent), ACCESS, revoked(acl, service_uid))
            done.append(str(parent))
    return done


def _grant_dir(dir_fd: int, path: str, service_uid: int, owner: int, umask: int) -> None:
    st = os.fstat(dir_fd)
    access = _read_access(dir_fd, st.st_mode, shown=path)
    _write(dir_fd, ACCESS, granted(access, service_uid, RWX), shown=path)
    default = _read(dir_fd, DEFAULT, path) or from_mode(st.st_mode & ~umask)
    default = granted(granted(default, service_uid, RWX), owner, RWX)
    _write(dir_fd, DEFAULT, default, shown=path)


def _revoke_dir(dir_fd: int, path: str, service_uid: int, owner: int) -> None:
    access = _read_access(dir_fd, os.fstat(dir_fd).st_mode, shown=path)
    if (USER, service_uid) in access:
        _write(dir_fd, ACCESS, revoked(access, service_uid), shown=path)
    default = _read(dir_fd, DEFAULT, path)
    if default is None:
        return
    left = revoked(revoked(default, service_uid), owner)
    if has_named(left):
        _write(dir_fd, DEFAULT, left, shown=path)
    else:
        with contextlib.suppress(OSError):
            os.removexattr(dir_fd, DEFAULT)


def _apply_files(dir_fd: int, path: str, names: list[str], owner: int, change: AclChange) -> int:
    done = 0
    for name in names:
        try:
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # removed meanwhile
        if not stat.S_ISREG(st.st_mode) or not _own(st, owner):
            continue  # the daemon's own objects need no grant (and are not ours to change)
        target = f"/proc/self/fd/{dir_fd}/{name}"
        acl = _read_access(target, st.st_mode, shown=os.path.join(path, name))
        new = change(acl)
        if new != acl:
            _write(target, ACCESS, new, shown=os.path.join(path, name))
        done += 1
    return done


def _walk(root_fd: int, root: str, changed: Changed) -> Iterator[tuple[int, str, list[str]]]:
    """(directory fd, path, regular-file-or-other names) for every directory, never via symlinks."""
    stack = [(os.dup(root_fd), root)]
    while stack:
        fd, path = stack.pop()
        try:
            subdirs, others = _entries(fd)
            yield fd, path, others
            for name in subdirs:
                child = _open_subdir(fd, name, os.path.join(path, name), changed)
                if child is not None:
                    stack.append((child, os.path.join(path, name)))
        finally:
            os.close(fd)


def _entries(fd: int) -> tuple[list[str], list[str]]:
    subdirs, others = [], []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                subdirs.append(entry.name)
            elif entry.is_file(follow_symlinks=False):
                others.append(entry.name)
    return sorted(subdirs), sorted(others)


def _open_subdir(parent: int, name: str, path: str, changed: Changed) -> int | None:
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError:  # not ours to enter, or gone meanwhile
        changed.unreadable.append(path)
        return None


def _open_own_root(root: Path, owner: int) -> int:
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        raise InvalidInput(f"cannot open the workspace {root}: {exc.strerror}",
                           hint="give a directory of yours (not a symlink)") from None
    if not _own(os.fstat(fd), owner):
        os.close(fd)
        raise PermissionDenied(f"{root} is not your directory",
                               hint="run `ws init` in a directory you own")
    return fd


def _own_ancestors(root: Path) -> Iterator[Path]:
    """The parents of ``root`` the caller owns, up to the first one they do not."""
    owner = os.geteuid()
    for parent in root.parents:
        try:
            st = parent.lstat()
        except OSError:
            return
        if not stat.S_ISDIR(st.st_mode) or not _own(st, owner):
            return
        yield parent


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def _own(st: os.stat_result, owner: int) -> bool:
    return st.st_uid == owner


def _read_access(target: int | str, mode: int, *, shown: str | None = None) -> Acl:
    return _read(target, ACCESS, shown) or from_mode(mode)


def _read(target: int | str, name: str, shown: str | None) -> Acl | None:
    try:
        return posixacl.read(target, name)
    except OSError as exc:
        raise _os_error(exc, shown or str(target)) from None


def _write(target: int | str, name: str, acl: Acl, *, shown: str | None = None) -> None:
    try:
        posixacl.write(target, acl, name)
    except OSError as exc:
        raise _os_error(exc, shown or str(target)) from None


def _os_error(exc: OSError, shown: str) -> Exception:
    if exc.errno in posixacl.UNSUPPORTED:
        return InvalidInput(
            f"the file system holding {shown} does not support POSIX ACLs, so the workspace "
            "daemon's user cannot be given access to it",
            hint="keep workspaces on a file system with ACLs (ext4, xfs, btrfs, tmpfs; NFS/CIFS "
            "mounts often lack them), or run your own single-user daemon (`ws serve`) "
            "instead of the shared one")
    if exc.errno in (errno.EPERM, errno.EACCES):
        return PermissionDenied(f"cannot change the ACL of {shown}: {exc.strerror}",
                                hint="only the owner of a file can change its ACL")
    return exc

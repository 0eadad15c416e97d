"""Putting an object at a name in a user's directory: a shared hardlink, or a private copy.

A hardlink costs no space and no time, so it is preferred (design.md rule 6).
It is replaced by a copy, and the caller is told so, when:

* the directory is on another filesystem (``EXDEV``);
* the object has reached the filesystem's link-count limit (``EMLINK``), or
  the store's own ``link_count_limit``;
* the kernel refuses the link (``EPERM``: ``protected_hardlinks``, or a
  filesystem without hard links);
* the entry is executable: a 0444 inode shared by everyone cannot carry one
  user's exec bit, so executables always get their own 0755 copy.

With ``private`` (service mode) a copy is made 0400 (0500 for an executable)
and readable by nobody else until the caller names its reader in its ACL
(``acl.py``): a copy is the daemon's file in one user's workspace, and must
not be readable by others through a 0755 home, nor outlive that user's access.

Replacing is atomic: the new inode is prepared under a ``.ws-tmp-*`` name in
the same directory, then renamed over ``name`` (a symlink there is replaced
itself, never followed). Without ``replace`` the final step is one that
cannot clobber (``link`` to the final name), so a file that appeared in the
meantime is never lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from workspace.diskspace import space_errors
from workspace.errors import NotFound, StoreCorrupt
from workspace.store.hashing import copy_range
from workspace.store.layout import StoreLayout
from workspace.store.safefs import lstat_at, temp_name, validate_name

Method = Literal["hardlink", "copy"]
Identity = tuple[int, int]  # (st_dev, st_ino): which inode a name holds

_COPY_INSTEAD = {errno.EXDEV, errno.EMLINK, errno.EPERM}
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_NO_HARDLINKS = {errno.EPERM, errno.EOPNOTSUPP}


def link_into(
    layout: StoreLayout,
    oid: str,
    dir_fd: int,
    name: str,
    *,
    executable: bool = False,
    replace: bool = False,
    prefer: Method = "hardlink",
    link_count_limit: int | None = None,
    size: int | None = None,
    private: bool = False,
) -> Method:
    """Materialize object ``oid`` as ``name`` in ``dir_fd``; returns how it was done.

    With ``size`` (what the version says the object holds), an object of
    another size is :class:`~workspace.errors.StoreCorrupt` and nothing is
    linked: it was written in place through a link. A full file system under
    ``dir_fd`` is :class:`~workspace.errors.DiskFull`, the temporary removed.
    """
    with space_errors(dir_fd, "the workspace"):
        return _place(layout, oid, dir_fd, name, executable=executable, replace=replace,
                      prefer=prefer, link_count_limit=link_count_limit, size=size,
                      private=private)[0]


@dataclass(frozen=True, slots=True)
class Placement:
    """One object to put at ``name`` (a plain entry name) in a directory; see :func:`link_into`."""

    name: str
    oid: str
    size: int | None = None
    executable: bool = False
    replace: bool = False


def link_many(layout: StoreLayout, dir_fd: int, placements: Iterable[Placement], *,
              prefer: Method = "hardlink", link_count_limit: int | None = None,
              private: bool = False) -> Iterator[tuple[Method, os.stat_result | None]]:
    """:func:`link_into` for many names in one directory, yielding how each was done and
    the name's ``lstat`` just after (None if it no longer holds what was placed: see
    :func:`place`).

    The same checks and fallbacks per file, with the per-call wrapping (the
    disk-full guard) paid once per directory: a checkout of 10,000 small files
    is mostly this loop (``bench/bench_perfile.py``).
    """
    with space_errors(dir_fd, "the workspace"):
        for p in placements:
            how, placed = _place(layout, p.oid, dir_fd, p.name, executable=p.executable,
                                 replace=p.replace, prefer=prefer,
                                 link_count_limit=link_count_limit, size=p.size,
                                 private=private)
            yield how, _stat_if(dir_fd, p.name, placed)


def place(layout: StoreLayout, oid: str, dir_fd: int, name: str, *, executable: bool,
          link_count_limit: int | None, size: int | None,
          private: bool) -> tuple[Method, os.stat_result | None]:
    """:func:`link_into` over an existing ``name``, then the ``lstat`` of ``name`` just after.

    The stat is None when ``name`` is no longer the inode just placed there (the
    object's, or the copy's): someone renamed another file over it in between,
    and a stat-cache row must never vouch for a file the daemon did not place.
    """
    with space_errors(dir_fd, "the workspace"):
        how, placed = _place(layout, oid, dir_fd, name, executable=executable, replace=True,
                             prefer="hardlink", link_count_limit=link_count_limit, size=size,
                             private=private)
    return how, _stat_if(dir_fd, name, placed)


def _stat_if(dir_fd: int, name: str, placed: Identity) -> os.stat_result | None:
    """The lstat of ``name`` if it is the inode ``placed``, else None."""
    after = lstat_at(dir_fd, name)
    return after if after is not None and (after.st_dev, after.st_ino) == placed else None


def _place(layout: StoreLayout, oid: str, dir_fd: int, name: str, *, executable: bool,
           replace: bool, prefer: Method, link_count_limit: int | None, size: int | None,
           private: bool) -> tuple[Method, Identity]:
    """Link or copy; returns how, and the (device, inode) now meant to be at ``name``."""
    validate_name(name)
    src = layout.relpath(oid)
    obj = _object_stat(layout, oid, src)
    if size is not None and obj.st_size != size:
        raise damaged(oid, obj.st_size, size)
    at_limit = link_count_limit is not None and obj.st_nlink >= link_count_limit
    if not (executable or prefer == "copy" or at_limit):
        try:  # without ``replace``, link(2) itself refuses an existing name: no lstat first
            _hardlink_into(layout.objects_fd, src, dir_fd, name, replace=replace)
            return "hardlink", (obj.st_dev, obj.st_ino)
        except OSError as exc:
            if exc.errno not in _COPY_INSTEAD:
                raise
    if not replace and _lexists(dir_fd, name):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), name)
    mode = 0o755 if executable else 0o644
    copy = _copy_into(layout, oid, dir_fd, name, mode=mode & 0o500 if private else mode,
                      replace=replace)
    return "copy", copy


def _object_stat(layout: StoreLayout, oid: str, src: str) -> os.stat_result:
    """The object's lstat; ``src`` is ``layout.relpath(oid)`` (which checked the id)."""
    try:
        st: os.stat_result | None = os.stat(src, dir_fd=layout.objects_fd, follow_symlinks=False)
    except FileNotFoundError:
        st = None
    if st is None:
        raise NotFound(
            f"object {oid} is not in the store",
            hint="the data may have been garbage-collected; add the file again",
        )
    if not stat.S_ISREG(st.st_mode):
        raise StoreCorrupt(
            f"object {oid} is not a regular file in the store",
            hint="the store was modified by hand; restore it from a backup",
        )
    return st


def damaged(oid: str, actual: int, expected: int) -> StoreCorrupt:
    return StoreCorrupt(
        f"object {oid} is damaged: it holds {actual} bytes but was stored with {expected}; "
        "it was written in place through a hardlink (as root, or after a chmod)",
        hint="add or commit a good copy of that file again (that repairs the object), then "
        "check out again; until then no version sharing it can be checked out",
        details={"oid": oid, "size": actual, "expected": expected})


def _lexists(dir_fd: int, name: str) -> bool:
    return lstat_at(dir_fd, name) is not None


def _hardlink_into(objects_fd: int, src: str, dir_fd: int, name: str, *, replace: bool) -> None:
    if not replace:
        os.link(src, name, src_dir_fd=objects_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        return
    tmp = temp_name()
    os.link(src, tmp, src_dir_fd=objects_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    _rename_over(dir_fd, tmp, name)


def _copy_into(
    layout: StoreLayout, oid: str, dir_fd: int, name: str, *, mode: int, replace: bool
) -> Identity:
    """Write a private copy under a temp name, then move it into place; returns its identity."""
    tmp = temp_name()
    src = os.open(
        layout.relpath(oid), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=layout.objects_fd
    )
    try:
        copy = _write_copy(src, dir_fd, tmp, mode)
    except BaseException:
        _unlink_quietly(dir_fd, tmp)
        raise
    finally:
        os.close(src)
    if replace:
        _rename_over(dir_fd, tmp, name)
    else:
        _place_without_clobbering(dir_fd, tmp, name)
    return copy


def _write_copy(src: int, dir_fd: int, tmp: str, mode: int) -> Identity:
    # No fsync: the object is durable, so a copy lost in a crash can be made again.
    dst = os.open(tmp, _NEW_FILE_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        copy_range(src, dst, os.fstat(src).st_size)
        os.fchmod(dst, mode)
        st = os.fstat(dst)
    finally:
        os.close(dst)
    return st.st_dev, st.st_ino


def _rename_over(dir_fd: int, tmp: str, name: str) -> None:
    try:
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        # Gone after a successful rename, except when ``name`` already was this very
        # inode: then rename(2) succeeds without doing anything and the temp remains.
        _unlink_quietly(dir_fd, tmp)


def _place_without_clobbering(dir_fd: int, tmp: str, name: str) -> None:
    try:
        os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            _unlink_quietly(dir_fd, tmp)
            raise
        _rename_unless_exists(dir_fd, tmp, name)  # a filesystem without hard links
        return
    _unlink_quietly(dir_fd, tmp)


def _rename_unless_exists(dir_fd: int, tmp: str, name: str) -> None:
    if _lexists(dir_fd, name):
        _unlink_quietly(dir_fd, tmp)
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), name)
    _rename_over(dir_fd, tmp, name)


def _unlink_quietly(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)

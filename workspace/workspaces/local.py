"""What a tracked path holds on disk now, compared with what the daemon last put there.

The daemon keeps a stat cache per tracked file (``TrackedFile``: oid, inode,
size, mtime, ctime). A file whose stat matches its row is unchanged without
reading it; a mismatch is hashed, and if the content is still the same the
row is refreshed (as ``git status`` refreshes its index). Never follows a
symlink: the walk is fd-relative (``store.safefs``).
"""

from __future__ import annotations

import os
import posixpath
import stat as stat_mod
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from workspace.db.queries.workspaces import CachedFile
from workspace.errors import InvalidInput, NotFound
from workspace.store import hash_fd, safefs
from workspace.store.names import shown, storable
from workspace.workspaces.ingest import by_directory

Cache = dict[str, CachedFile]


@dataclass(slots=True)
class LocalFile:
    relpath: str
    stat: os.stat_result


@dataclass(slots=True)
class LocalState:
    """The comparison of disk with the cache; ``oids`` holds every file whose content is known.

    A file whose name cannot be stored (``store.names``) is in ``invalid`` and,
    like a symlink, in ``unsupported`` (so status lists it); never in ``files``.
    All paths are as found on disk: escape them (``names.shown``) to show them.
    """

    files: dict[str, os.stat_result] = field(default_factory=dict)
    oids: dict[str, str] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    refreshed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.added or self.modified or self.deleted or self.unsupported)


def stat_matches(row: CachedFile, st: os.stat_result) -> bool:
    return (row.ino, row.size, row.mtime_ns, row.ctime_ns) == (
        st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _owner_cannot_write_ours(root_fd: int) -> bool:
    """Whether the workspace's owner is not the daemon (service mode, daemon not root): then a
    file the daemon owns without write bits (an object, or the daemon's private copy) can
    only change content through the daemon or root, and neither writes it."""
    return _EUID != 0 and os.fstat(root_fd).st_uid != _EUID


def _metadata_changed(row: CachedFile, st: os.stat_result) -> bool:
    """Only the ctime moved on one of the daemon's read-only inodes: an ACL given to another
    user, or a link made elsewhere. Hashing every file again after each grant cost eight
    concurrent checkouts of a shared 10,000-file dataset a rehash of everything per user."""
    return ((row.ino, row.size, row.mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
            and st.st_uid == _EUID and not st.st_mode & 0o222)


_EUID = os.geteuid()


def cache_row(relpath: str, oid: str, st: os.stat_result, *, size: int) -> dict[str, Any]:
    """The row that lets ``status`` trust ``st`` without hashing: ``size`` is the object's.

    The size recorded is what the version says the file holds, never the
    stat's: a row written after the file (or its object, through another
    link) was edited in place then still differs in size from the file, so
    an append or a truncation is hashed and reported, whatever refreshed the
    inode, mtime and ctime.
    """
    return {"relpath": relpath, "oid": oid, "size": size,
            "executable": bool(st.st_mode & 0o111), "ino": st.st_ino,
            "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def freshest(stats: dict[str, os.stat_result]) -> dict[str, os.stat_result]:
    """``stats`` with each stat replaced by the latest one of the same inode showing the
    same size and mtime (its ctime and link count moved on, its bytes did not).

    Each stat is taken when its path is placed, but linking the next path to the
    same object moves that inode's ctime: without this, every file of a version
    sharing its bytes with a later one (empty files, copies) would be hashed again by
    the next status. Only a write moves the mtime, so a row never vouches for bytes
    written after the stat it was built from.
    """
    latest: dict[tuple[int, int, int, int], os.stat_result] = {}
    for st in stats.values():
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        seen = latest.get(key)
        if seen is None or st.st_ctime_ns > seen.st_ctime_ns:
            latest[key] = st
    return {path: latest[(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)]
            for path, st in stats.items()}


@contextmanager
def opened_target(root_fd: int, relpath: str, kind: str) -> Iterator[tuple[int, str | None]]:
    """(fd, None) for a tracked directory, (parent fd, name) for a tracked file."""
    if kind == "dir":
        fd = safefs.open_dir(root_fd, relpath)
        try:
            yield fd, None
        finally:
            os.close(fd)
        return
    parent, name = safefs.open_parent(root_fd, relpath)
    try:
        yield parent, name
    finally:
        os.close(parent)


def list_files(root_fd: int, relpath: str, kind: str) -> tuple[list[LocalFile], list[str]]:
    """Regular files (relative to the tracked path) and unsupported entries (symlinks, FIFOs...)."""
    try:
        with opened_target(root_fd, relpath, kind) as (fd, name):
            if name is None:
                scan = safefs.scan(fd)
                files = [LocalFile(f.relpath, f.stat) for f in scan.files]
                return files, sorted([*scan.symlinks, *scan.special])
            st = safefs.lstat_at(fd, name)
    except NotFound:
        return [], []
    if st is None:
        return [], []
    if not stat_mod.S_ISREG(st.st_mode):
        return [], [posixpath.basename(relpath)]
    return [LocalFile(posixpath.basename(relpath), st)], []


def compare(root_fd: int, relpath: str, kind: str, cache: Cache,
            on_hash: Callable[[int], None] | None = None) -> LocalState:
    files, unsupported = list_files(root_fd, relpath, kind)
    return _compare_files(root_fd, relpath, kind, files, unsupported, cache, on_hash)


def compare_some(root_fd: int, relpath: str, kind: str, cache: Cache,
                 paths: Collection[str]) -> LocalState:
    """Compare only ``paths`` (and all below those that are directories) with their rows.

    For the workspace watcher's dirty set: ``cache`` must hold the rows of
    exactly these paths and of everything below them, so a row whose file is
    not on disk is deleted. A path under a symlinked directory raises
    PermissionDenied: the caller then falls back to :func:`compare`.
    """
    found: dict[str, LocalFile] = {}
    unsupported: set[str] = set()
    with opened_target(root_fd, relpath, kind) as (fd, name):
        if name is not None:  # a tracked file: its one path is the file itself
            for path in paths:
                _look_at(fd, name, path, kind, found, unsupported)
        else:
            # each directory opened once, not once per file: a root daemon in hardlink
            # mode stats every linked file at every status
            for directory, members in by_directory(paths).items():
                _look_in(fd, directory, members, kind, found, unsupported)
    return _compare_files(root_fd, relpath, kind, list(found.values()), sorted(unsupported),
                          cache, None)


def _look_in(fd: int, directory: str, paths: list[str], kind: str,
             found: dict[str, LocalFile], unsupported: set[str]) -> None:
    """Look at ``paths``, all in ``directory`` (under ``fd``); a missing one holds nothing."""
    try:
        dir_fd = safefs.open_group_dir(fd, directory)
    except NotFound:
        return
    try:
        for path in paths:
            _look_at(dir_fd, posixpath.basename(path), path, kind, found, unsupported)
    finally:
        os.close(dir_fd)


def _look_at(fd: int, on_disk: str, path: str, kind: str, found: dict[str, LocalFile],
             unsupported: set[str]) -> None:
    """``on_disk``: one entry name in ``fd``, or "" for ``fd`` itself."""
    try:
        st = (os.stat(safefs.validate_name(on_disk), dir_fd=fd, follow_symlinks=False)
              if on_disk else os.fstat(fd))
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat_mod.S_ISREG(st.st_mode):
        found[path] = LocalFile(path, st)
    elif stat_mod.S_ISDIR(st.st_mode) and kind == "dir":
        sub = safefs.open_dir(fd, on_disk)
        try:
            scan = safefs.scan(sub)
        finally:
            os.close(sub)
        found.update({f"{path}/{f.relpath}": LocalFile(f"{path}/{f.relpath}", f.stat)
                      for f in scan.files})
        unsupported.update(f"{path}/{p}" for p in (*scan.symlinks, *scan.special))
    else:
        unsupported.add(path)


def _compare_files(root_fd: int, relpath: str, kind: str, files: list[LocalFile],
                   unsupported: list[str], cache: Cache,
                   on_hash: Callable[[int], None] | None) -> LocalState:
    state = LocalState(unsupported=list(unsupported))
    suspects: list[LocalFile] = []
    sealed = _owner_cannot_write_ours(root_fd)
    for local in files:
        if not storable(local.relpath):
            state.invalid.append(local.relpath)
            continue
        state.files[local.relpath] = local.stat
        row = cache.get(local.relpath)
        if row is None:
            state.added.append(local.relpath)
        elif stat_matches(row, local.stat) or (sealed and _metadata_changed(row, local.stat)):
            state.oids[local.relpath] = row.oid
        else:
            suspects.append(local)
    _hash_suspects(root_fd, relpath, kind, suspects, cache, state, on_hash)
    state.deleted = sorted(p for p in cache if p not in state.files)
    state.unsupported = sorted([*state.unsupported, *state.invalid])
    state.invalid.sort()
    state.added.sort()
    state.modified.sort()
    return state


def _hash_suspects(root_fd: int, relpath: str, kind: str, suspects: list[LocalFile],
                   cache: Cache, state: LocalState,
                   on_hash: Callable[[int], None] | None) -> None:
    if not suspects:
        return
    with opened_target(root_fd, relpath, kind) as (fd, name):
        for local in suspects:
            oid, st = _hash_file(fd, name or local.relpath)
            state.oids[local.relpath] = oid
            if oid == cache[local.relpath].oid:
                state.refreshed.append(cache_row(local.relpath, oid, st,
                                                 size=cache[local.relpath].size))
            else:
                state.modified.append(local.relpath)
            if on_hash is not None:
                on_hash(st.st_size)


def _hash_file(base_fd: int, relpath: str) -> tuple[str, os.stat_result]:
    parent, name = safefs.open_parent(base_fd, relpath) if "/" in relpath else (
        os.dup(base_fd), relpath)
    try:
        fd, st = safefs.open_regular_file(parent, name, owner_uid=None)
    finally:
        os.close(parent)
    try:
        return hash_fd(fd, st.st_size), st
    finally:
        os.close(fd)


def require_storable(state: LocalState, where: str, kind: str) -> None:
    """Refuse, before any file is touched, a tree holding names a dataset cannot hold."""
    if not state.invalid:
        return
    base = where if kind == "dir" else posixpath.dirname(where)
    paths = [shown(posixpath.join(base, p)) for p in state.invalid]
    raise InvalidInput(
        f"{where} holds {len(paths)} file name(s) that are not valid UTF-8 or contain control "
        f"characters, which a dataset cannot hold: {_listed(paths)}",
        hint="rename them (e.g. with `mv`, or `convmv` for another encoding), then run the "
        "command again; nothing was changed",
        details={"paths": paths},
    )


def require_supported(state: LocalState, skip: bool, where: str) -> None:
    invalid = set(state.invalid)
    unsupported = [shown(p) for p in state.unsupported if p not in invalid]
    if unsupported and not skip:
        raise InvalidInput(
            f"{where} holds {len(unsupported)} symlink(s) or special file(s): "
            f"{_listed(unsupported)}",
            hint="remove them, or pass --skip-symlinks to leave them out of the dataset",
            details={"unsupported": unsupported},
        )


def _listed(paths: list[str]) -> str:
    return ", ".join(paths[:10]) + (" ..." if len(paths) > 10 else "")

"""Where the store keeps things on disk, and the primitive moves between those places.

    <root>/              0700, owned by the daemon's user: users cannot browse it
    <root>/objects/ab/   two-character fan-out; the file is named by the other 62 hex chars
    <root>/tmp/          temporaries of batches not yet committed (same filesystem)
    <root>/quarantine/   objects fsck found corrupt, moved aside as ``<oid>.<UTC time>``
    <root>/id            this store's identity (a UUID), which the database's damage
                         and scrub records are keyed by

Everything is done relative to directory fds opened once, so nothing can be
redirected by renaming directories under a running daemon. An object reaches
its final name by ``link`` (then the temp is unlinked), never by ``rename``:
``link`` fails if the name exists, so an existing object is never replaced,
not even by identical bytes; only a damaged one, whose size is not that of
its bytes, is (``publish``). Only one ``StoreLayout`` may be open on a store at
a time: opening one deletes the temporaries that a crashed run left behind.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from workspace.errors import InvalidInput, PermissionDenied
from workspace.store.hashing import is_oid

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
ADOPT_PREFIX = "a."
"""Temp names of adopted user files: ``a.<oid>.<original mode, octal>.<unique>``."""
# Temp names need only be unique among this process's temps (tmp/ is the daemon's own,
# and a store is opened by one process, which clears older temps first): a random tag
# per process and a counter, rather than a getrandom() call per file.
_TEMP_TAG = secrets.token_hex(6)
_TEMP_SERIAL = itertools.count()


def _unique() -> str:
    return f"{_TEMP_TAG}{next(_TEMP_SERIAL):x}"


@dataclass
class StoreLayout:
    """The open directories of one store; see the module docstring for the tree."""

    root: Path
    root_fd: int
    objects_fd: int
    tmp_fd: int
    quarantine_fd: int = -1
    store_id: str = ""
    _live: set[str] = field(default_factory=set)  # temps of batches still running
    _live_guard: threading.Lock = field(default_factory=threading.Lock)
    object_mode: int = 0o444
    """0400 in service mode: then only the object's ACL lets anyone else read it."""

    @classmethod
    def open(cls, root: Path) -> StoreLayout:
        """Create or open the store at ``root`` and clear what a crashed run left in tmp/."""
        layout = cls(root, _open_root(root), -1, -1)
        try:
            layout.objects_fd = _open_subdir(layout.root_fd, "objects")
            layout.tmp_fd = _open_subdir(layout.root_fd, "tmp")
            layout.quarantine_fd = _open_subdir(layout.root_fd, "quarantine")
            layout.store_id = _store_id(layout.root_fd)
            layout.clear_leftovers()
        except BaseException:
            layout.close()
            raise
        return layout

    def close(self) -> None:
        """Release the directory fds; idempotent."""
        for name in ("quarantine_fd", "tmp_fd", "objects_fd", "root_fd"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def relpath(self, oid: str) -> str:
        """``ab/cdef...``: where ``oid`` lives relative to objects/."""
        if not is_oid(oid):
            raise InvalidInput(
                f"{oid!r} is not an object id", hint="object ids are 64 lowercase hex characters"
            )
        return f"{oid[:2]}/{oid[2:]}"

    def lstat(self, oid: str) -> os.stat_result | None:
        """The object's lstat, or None if there is no object of that id."""
        try:
            return os.stat(self.relpath(oid), dir_fd=self.objects_fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def new_temp(self) -> tuple[str, int]:
        """A new private (0600) temp file in tmp/, open read-write; the caller closes the fd."""
        name = "c." + _unique()
        self.track_temp(name)
        return name, os.open(name, _TEMP_FLAGS, 0o600, dir_fd=self.tmp_fd)

    def track_temp(self, name: str) -> None:
        """Mark a temp as in use by a running batch: gc's tmp sweep leaves it alone."""
        with self._live_guard:
            self._live.add(name)

    def track_temps(self, names: Iterable[str]) -> None:
        """:meth:`track_temp` for many, under one lock."""
        with self._live_guard:
            self._live.update(names)

    def untrack(self, name: str) -> None:
        """The temp is no longer a running batch's (published, or dropped)."""
        with self._live_guard:
            self._live.discard(name)

    def discard_temp(self, name: str) -> None:
        """Remove a temp, first giving an adopted user file its mode back.

        Missing is fine: aborting twice must not fail.
        """
        if name.startswith(ADOPT_PREFIX):
            self._restore_adopted(name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name, dir_fd=self.tmp_fd)
        self.untrack(name)

    def sweep_temps(self, older_than: float) -> tuple[int, int]:
        """Remove temps no running batch owns, last changed before ``older_than`` (epoch s).

        Such temps are left by a failure that skipped its cleanup; a crash's
        are removed when the store opens. Returns (count, bytes).
        """
        with os.scandir(self.tmp_fd) as entries:
            names = [entry.name for entry in entries]
        count = size = 0
        for name in names:
            with self._live_guard:
                if name in self._live:
                    continue
            st = _lstat_quietly(self.tmp_fd, name)
            if st is None or st.st_ctime >= older_than:
                continue
            if name.startswith(ADOPT_PREFIX):
                self._restore_adopted(name)
            _remove_entry(self.tmp_fd, name)
            count, size = count + 1, size + st.st_size
        return count, size

    def quarantine(self, oid: str) -> str | None:
        """Move the object out of objects/ into quarantine/; its new name, or None if absent."""
        name = f"{oid}.{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        try:
            os.rename(self.relpath(oid), name, src_dir_fd=self.objects_fd,
                      dst_dir_fd=self.quarantine_fd)
        except FileNotFoundError:
            return None
        fsync_quietly(self.quarantine_fd)
        return name

    def publish(self, temp: str, oid: str) -> bool:
        """Give the temp its final name unless the object exists; True if we created it.

        The fan-out directory must exist (see :meth:`ensure_fanout`). The temp is
        removed either way; the bytes must already be durable. An existing
        object of another size than the temp (whose bytes hash to ``oid``) was
        damaged in place: the temp is renamed over it, repairing it.
        """
        try:
            os.link(temp, self.relpath(oid), src_dir_fd=self.tmp_fd, dst_dir_fd=self.objects_fd)
            created = True
        except FileExistsError:
            created = self._repair(temp, oid)
        # Not discard_temp: a published adoption is an object now and must stay 0444; a
        # deduplicated one keeps 0444 too, as its bytes are the object's (the caller links it).
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=self.tmp_fd)
        self.untrack(temp)
        return created

    def _repair(self, temp: str, oid: str) -> bool:
        """Rename ``temp`` over ``oid`` if the object's size is not the temp's; True if so."""
        final = self.lstat(oid)
        size = os.stat(temp, dir_fd=self.tmp_fd, follow_symlinks=False).st_size
        if final is None or final.st_size == size:
            return False
        os.rename(temp, self.relpath(oid), src_dir_fd=self.tmp_fd, dst_dir_fd=self.objects_fd)
        return True

    def ensure_fanout(self, oid: str) -> bool:
        """Create objects/<ab>/ if missing; True if this call created it."""
        try:
            os.mkdir(oid[:2], 0o700, dir_fd=self.objects_fd)
        except FileExistsError:
            return False
        return True

    def open_fanout(self, oid: str) -> int:
        """A directory fd on objects/<ab>/, for fsync."""
        return os.open(oid[:2], DIR_FLAGS, dir_fd=self.objects_fd)

    def clear_leftovers(self) -> None:
        """Delete every temp of a previous run, giving adopted user files their mode back."""
        with os.scandir(self.tmp_fd) as entries:
            names = [entry.name for entry in entries]
        for name in names:
            if name.startswith(ADOPT_PREFIX):
                self._restore_adopted(name)
            _remove_entry(self.tmp_fd, name)

    def _restore_adopted(self, name: str) -> None:
        """Undo the 0444 of an adoption that never reached its final name (a crash)."""
        parsed = _parse_adopt_name(name)
        if parsed is None:
            return
        oid, mode = parsed
        try:
            st = os.stat(name, dir_fd=self.tmp_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        final = self.lstat(oid)
        if final is not None and (final.st_dev, final.st_ino) == (st.st_dev, st.st_ino):
            return  # it did become the object: it must stay read-only
        if stat.S_ISREG(st.st_mode):
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.tmp_fd)
            try:
                os.fchmod(fd, mode)
            finally:
                os.close(fd)


def adopt_temp_name(oid: str, mode: int) -> str:
    """The tmp/ name for an adopted file; it records what to undo after a crash."""
    return f"{ADOPT_PREFIX}{oid}.{stat.S_IMODE(mode):o}.{_unique()}"


def _parse_adopt_name(name: str) -> tuple[str, int] | None:
    parts = name.split(".")
    if len(parts) != 4 or not is_oid(parts[1]):
        return None
    try:
        return parts[1], int(parts[2], 8) & 0o7777
    except ValueError:
        return None


def _open_root(root: Path) -> int:
    """Open (creating) the store root and make sure it is ours and 0700."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise PermissionDenied(
                f"the store {root} is owned by uid {st.st_uid}, not by this daemon's uid "
                f"{os.geteuid()}",
                hint="chown the store to the service user, or configure another store path",
            )
        if stat.S_IMODE(st.st_mode) != 0o700:
            os.fchmod(fd, 0o700)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _store_id(root_fd: int) -> str:
    """The store's UUID from ``<root>/id``, written (durably) the first time."""
    try:
        fd = os.open("id", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root_fd)
    except FileNotFoundError:
        return _write_store_id(root_fd)
    try:
        text = os.read(fd, 100).decode("ascii", "replace").strip()
    finally:
        os.close(fd)
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise PermissionDenied(f"the store's id file holds {text[:40]!r}, not a UUID",
                               hint="restore it from a backup of the store") from None


def _write_store_id(root_fd: int) -> str:
    made = str(uuid.uuid4())
    temp = f"id.{secrets.token_hex(6)}"
    fd = os.open(temp, _TEMP_FLAGS, 0o600, dir_fd=root_fd)
    try:
        os.write(fd, (made + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, "id", src_dir_fd=root_fd, dst_dir_fd=root_fd)
    except FileExistsError:
        pass  # another opener won: use its id
    finally:
        os.unlink(temp, dir_fd=root_fd)
    fsync_quietly(root_fd)
    return _store_id(root_fd)


def fsync_quietly(dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.fsync(dir_fd)


def _lstat_quietly(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _open_subdir(parent: int, name: str) -> int:
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o700, dir_fd=parent)
    return os.open(name, DIR_FLAGS, dir_fd=parent)


def _remove_entry(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except IsADirectoryError:
        shutil.rmtree(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass

"""What the workspace services need from the daemon, and small shared pieces.

Long operations run in three phases: a short read transaction (validate,
resolve), file work with no transaction open (hashing, linking), then a short
write transaction that re-validates and records the result with its audit
events. A per-workspace lock keeps two operations from working on the same
files at once.
"""

from __future__ import annotations

import os
import stat as stat_mod
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from workspace.acl.service import NoAcl, ReadAccess
from workspace.auth import Caller
from workspace.db import Database
from workspace.db.models import TrackedPath
from workspace.errors import InvalidInput, NotFound
from workspace.maintenance.quotas import WriteLimits
from workspace.store import ObjectStore, safefs
from workspace.store.pins import PinLease
from workspace.workspaces.local import LocalState


@dataclass(frozen=True, slots=True)
class Reporter:
    """Progress hooks: ``start(files, bytes)`` once, then ``update(files, bytes)``."""

    start: Callable[[int, int], None] = lambda files, size: None
    update: Callable[[int, int], None] = lambda files, size: None


@dataclass
class WatchView:
    """What a watcher knows of one tracked path for ``status``: a state, or None (scan).

    ``note`` goes into the status entry (``watched``, and ``reason`` when not).
    A state the caller scans itself is set here, and the watcher may adopt it.
    """

    state: LocalState | None = None
    note: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WatchStats:
    """The watcher's state, for metrics: tracked paths known (and how many are too big to
    watch), inotify watches used out of its budget, linked files stat-ed at every status
    (no watch on their inode), full scans and queue overflows so far."""

    paths: int
    unwatched: int
    watches: int
    budget: int
    polled: int
    full_scans: int
    overflows: int


class Watcher(Protocol):
    """The workspace watcher (``workspace/watch/``), seen from the services."""

    def status_view(self, root_fd: int,
                    tracked: TrackedPath) -> AbstractContextManager[WatchView]: ...

    def changing(self, workspace_id: int, relpath: str) -> AbstractContextManager[None]: ...

    def stats(self) -> WatchStats: ...


class ObjectSource(Protocol):
    """Where a checkout gets objects the store lacks (``remotes/fetch.py``: the default
    remote). Returns how many it brought; what it cannot bring stays missing."""

    def fetch(self, caller: Caller, wanted: dict[str, int], reporter: Reporter) -> int: ...

    def configured(self) -> bool:
        """Whether there is anywhere to fetch from (a default remote)."""
        ...


@dataclass
class ServiceContext:
    db: Database
    store: ObjectStore
    mode: str = "single"
    link_mode: str = "hardlink"
    watcher: Watcher | None = None
    limits: WriteLimits = field(default_factory=WriteLimits)
    upkeep: threading.Lock = field(default_factory=threading.Lock)  # one gc/fsck/scrub at a time
    acl: ReadAccess = field(default_factory=NoAcl)
    """Object ACLs (service mode: ``KernelAcl``, installed at start; single-user: none)."""
    object_source: ObjectSource | None = None
    _locks: dict[int, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def changing(self, workspace_id: int, relpath: str) -> Iterator[None]:
        """An operation rewrites a tracked path: the watcher distrusts it, then rescans it."""
        if self.watcher is None:
            yield
            return
        with self.watcher.changing(workspace_id, relpath):
            yield

    @contextmanager
    def workspace_lock(self, workspace_id: int) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(workspace_id, threading.Lock())
        with lock:
            yield

    def ensure_present(self, caller: Caller, wanted: dict[str, int], lease: PinLease,
                       reporter: Reporter | None = None) -> None:
        """Pin each object of ``wanted`` (oid -> size) and fetch those the store lacks
        (evicted, lost) from the default remote, if there is one.

        Each is pinned under its fan-out lock, as ``gc --evict`` unlinks under it: an
        object there at that moment stays until ``lease`` ends. Then, if there is a
        remote, the missing ones are looked for (on the file workers, when there are
        many); without one, linking reports a missing object (``NotFound``) as it looks
        at each one anyway."""
        self.store.pin_many(lease, wanted)
        if self.object_source is None or not self.object_source.configured():
            return
        missing = self.store.missing(list(wanted))
        if missing:
            self.object_source.fetch(caller, {oid: wanted[oid] for oid in missing},
                                     reporter or Reporter())

    def may_adopt(self) -> bool:
        """Adopting a user's inode is only sound when the daemon is that user.

        And only when files are linked: in copy mode the user's file must stay
        the user's own, writable inode, not become a read-only object.
        """
        return self.mode == "single" and self.link_mode == "hardlink"


def resolve_link_mode(setting: str, euid: int) -> str:
    """``auto`` is ``hardlink``, except for a daemon run as root, which copies.

    Root can write a 0444 file: with hardlinks, ``echo x >> data/labels.csv``
    would change the stored object for every version and workspace sharing
    it. With copies, root's files are never the store's inodes. Setting
    ``hardlink`` explicitly as root is the opt-in (the daemon warns).
    """
    if setting != "auto":
        return setting
    return "copy" if euid == 0 else "hardlink"


@contextmanager
def open_root(path: str, caller: Caller) -> Iterator[int]:
    fd = safefs.open_root(Path(path), owner_uid=caller.uid)
    try:
        yield fd
    finally:
        os.close(fd)


def kind_of(root_fd: int, relpath: str) -> str:
    st = safefs.lstat_at(root_fd, relpath)
    if st is None:
        raise NotFound(f"{relpath} does not exist in the workspace")
    if stat_mod.S_ISDIR(st.st_mode):
        return "dir"
    if stat_mod.S_ISREG(st.st_mode):
        return "file"
    raise InvalidInput(f"{relpath} is not a regular file or directory",
                       hint="only files and directories can be tracked; symlinks are refused")

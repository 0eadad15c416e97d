"""The workspace watcher: ``ws status`` from memory for every watched tracked path.

The daemon watches the tracked paths of every registered workspace with
inotify (through watchdog, see ``inotify.py``) and keeps, per tracked path,
the set of paths touched since its last full scan (``tree.py``). Then:

- clean baseline, empty dirty set: ``status`` answers with no scan at all;
- a few dirty paths: it stats (and, on a mismatch, hashes) only those, and
  lists only the directories that were created, deleted or moved;
- anything in doubt — not yet reconciled, an operation on the path in
  progress, the baseline is for another version, the tracked directory is
  not the inode we watch, the event queue overflowed, the reader did not
  catch up in time, a symlink or unreadable directory in the way — a full
  scan, exactly as without a watcher (and that scan becomes the baseline).

Events are hints only. The watcher reconciles with a full scan at start, on
a timer (``watch_rescan_interval``), after every add/commit/checkout/get of a
path (``changing``), and when the kernel queue overflows (``IN_Q_OVERFLOW``:
watchdog 7.1 calls ``on_queue_overflow`` on our callbacks; see inotify.py).

What inotify does and does not see (the timer is the backstop for the rest):

- seen: anything done through a path inside the watched tree — create,
  write, truncate, chmod/chown/utime, rename, delete, directories moved in
  or out. A 0444 object linked into the workspace needs a chmod before it
  can be written; made through the workspace's own link, that chmod is an
  ``IN_ATTRIB`` here.
- not seen: a write, chmod or truncate through *another* hardlink of the
  same inode in a directory we do not watch (inotify reports to the parent
  of the name used). Writable files with several links (for a daemon run as
  root, every file with several links, since root writes a 0444 object
  without a chmod) get a watch on their own inode after each full scan
  (``files.py``), or, past the budget, are stat-ed at every status
  (``polled``); that watch hears writes and truncations, not a chmod, chown
  or utime made through another link (seen at the next timer scan). A 0444
  object changed through another link needs its owner to chmod it: in
  service mode that is only the daemon's user (or root); in single-user
  mode it is the user, who then corrupts the stored object itself (status
  sees it at the next timer scan; checkout refuses an object whose size
  changed). Also not seen: writes through a shared ``mmap``, changes made
  on another machine to a network filesystem, and changes to a filesystem
  mounted over a watched directory afterwards.

Watches are budgeted: one per directory (and per held file), at most ``watch_max_watches``
(default: ``fs.inotify.max_user_watches`` minus a margin, as the limit is
shared by every process of the daemon's user). A tracked path is counted
before it is watched; one too big, or one that grows past the budget, is
left unwatched, and its status entry says why (``watched: false``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path

from workspace.db.models import TrackedPath
from workspace.db.queries import workspaces as wq
from workspace.errors import NotFound, WorkspaceError
from workspace.store import safefs
from workspace.store.names import storable
from workspace.watch.barrier import Barrier
from workspace.watch.files import watch_polled
from workspace.watch.hub import Hub, Key, Snapshot
from workspace.watch.inotify import Inotify, user_watch_limit
from workspace.watch.tree import WatchedTree
from workspace.workspaces import local
from workspace.workspaces.context import ServiceContext, WatchStats, WatchView

log = logging.getLogger(__name__)

BARRIER_TIMEOUT = 10.0
IDLE_WAIT = 3600.0
SCAN_ATTEMPTS = 3
WATCH_MARGIN = 1024
"""Watches left to the daemon user's other programs (and 10% of the limit, if more)."""
_MANY_PATHS = 2000
"""Past this many examined paths, status reads all of a tracked path's rows in one query."""


def default_budget() -> int:
    limit = user_watch_limit()
    if limit is None:
        return 0
    return max(0, limit - max(WATCH_MARGIN, limit // 10))


class WorkspaceWatcher:
    """Watches tracked paths and answers ``status`` from memory; see the module docstring."""

    def __init__(self, ctx: ServiceContext, *, state_dir: Path, rescan_interval: float,
                 max_watches: int | None = None) -> None:
        self.ctx = ctx
        self.rescan_interval = rescan_interval
        self.full_scans = 0
        self.overflows = 0
        self._ids = count(1)
        self._trees: dict[Key, WatchedTree] = {}
        self._cv = threading.Condition()
        self._pending: dict[Key, None] = {}
        self._active = 0
        self._closed = False
        self._inotify = Inotify()
        budget = default_budget() if max_watches is None else max_watches
        self._hub = Hub(self._inotify, budget, self._schedule)
        self._barrier = Barrier(self._inotify, state_dir, next(self._ids), self._overflowed)
        self._hub.in_use += 1
        self._worker = threading.Thread(target=self._run, name="ws-watch", daemon=True)
        self._worker.start()

    # --- the services' side (workspaces.context.Watcher) ------------------------------------

    @contextmanager
    def status_view(self, root_fd: int, tracked: TrackedPath) -> Iterator[WatchView]:
        tree = self._tree(tracked.workspace_id, tracked.path, tracked.kind)
        view = WatchView(note={"watched": True})
        if self._from_memory(tree, root_fd, tracked, view):
            yield view
            return
        if not tree.reconcile_lock.acquire(blocking=False):
            yield self._note_unwatched(tree, view)  # a scan already runs: just scan
            return
        try:
            token = None if tree.unwatched else tree.begin(root_fd, _baseline(tracked))
            yield self._note_unwatched(tree, view)
            if token is not None and view.state is not None and tree.finish(token, view.state):
                self.full_scans += 1
                if tree.polled:  # watching their inodes is for the background scan
                    self._schedule(tree.key)
        finally:
            tree.reconcile_lock.release()

    @contextmanager
    def changing(self, workspace_id: int, relpath: str) -> Iterator[None]:
        key = (workspace_id, relpath)
        tree = self._trees.get(key)
        if tree is not None:
            with self._hub.lock:
                tree.busy += 1
            tree.invalidate()
        try:
            yield
        finally:
            if tree is not None:
                with self._hub.lock:
                    tree.busy -= 1
                tree.invalidate()
            self._schedule(key)

    # --- answering from memory ----------------------------------------------------------------

    def _from_memory(self, tree: WatchedTree, root_fd: int, tracked: TrackedPath,
                     view: WatchView) -> bool:
        if tree.snapshot(_baseline(tracked)) is None or tree.unwatched:
            return False
        if not self._barrier.wait(BARRIER_TIMEOUT):
            return False
        if not tree.same_base(root_fd):
            tree.invalidate()
            return False
        snap = tree.snapshot(_baseline(tracked))
        if snap is None:
            return False
        if snap.empty:
            view.state = local.LocalState()
            return True
        view.state = self._check(tree, root_fd, tracked, snap)
        return view.state is not None

    def _check(self, tree: WatchedTree, root_fd: int, tracked: TrackedPath,
               snap: Snapshot) -> local.LocalState | None:
        """Stat (and hash if needed) only the dirty paths; None when only a scan can tell."""
        examined = snap.examined()
        rows = self._rows_of(tracked.id, examined, snap.dirs)
        try:
            state = local.compare_some(root_fd, tracked.path, tracked.kind, rows, examined)
        except (WorkspaceError, OSError) as exc:
            log.info("status of %s: scanning, dirty paths unclear (%s)", tracked.path, exc)
            return None
        tree.settle(snap, state)
        return state

    def _rows_of(self, tracked_id: int, examined: set[str],
                 dirs: Collection[str]) -> local.Cache:
        """The stat-cache rows of the examined paths and of everything below the dirty dirs.

        Most of a tracked path (a root daemon polls every linked file): read all
        rows in one query rather than thousands of IN lists, and keep the wanted."""
        with self.ctx.db.read() as session:  # a name that cannot be stored has no row
            if len(examined) > _MANY_PATHS:
                under = tuple(d + "/" for d in dirs)
                return {p: row for p, row in wq.tracked_files(session, tracked_id).items()
                        if p in examined or (under and p.startswith(under))}
            rows = wq.tracked_files_at(session, tracked_id, [p for p in examined if storable(p)])
            for directory in filter(storable, dirs):
                rows.update(wq.tracked_files_under(session, tracked_id, directory))
            return rows

    def stats(self) -> WatchStats:
        with self._hub.lock:
            trees = list(self._trees.values())
            return WatchStats(paths=len(trees), unwatched=sum(1 for t in trees if t.unwatched),
                              watches=self._hub.in_use, budget=self._hub.budget,
                              polled=sum(len(t.polled) for t in trees),
                              full_scans=self.full_scans, overflows=self.overflows)

    @staticmethod
    def _note_unwatched(tree: WatchedTree, view: WatchView) -> WatchView:
        if tree.unwatched:
            view.note = {"watched": False, "reason": tree.unwatched}
        return view

    # --- trees ----------------------------------------------------------------------------------

    def _tree(self, workspace_id: int, relpath: str, kind: str) -> WatchedTree:
        key = (workspace_id, relpath)
        with self._hub.lock:
            tree = old = self._trees.get(key)
            if tree is None or tree.kind != kind:
                tree = WatchedTree(self._hub, key, kind, next(self._ids))
                self._trees[key] = tree
        if old is not None and old is not tree:
            old.close()
        return tree

    def _forget(self, key: Key) -> None:
        with self._hub.lock:
            tree = self._trees.pop(key, None)
        if tree is not None:
            tree.close()

    # --- reconciling in the background ---------------------------------------------------------

    def _schedule(self, key: Key) -> None:
        with self._cv:
            self._pending[key] = None
            self._cv.notify()

    def _run(self) -> None:
        next_sweep = time.monotonic()
        while True:
            with self._cv:
                while not self._closed and not self._pending and time.monotonic() < next_sweep:
                    self._cv.wait(min(next_sweep - time.monotonic(), IDLE_WAIT))
                if self._closed:
                    return
                key = next(iter(self._pending)) if self._pending else None
                if key is not None:
                    del self._pending[key]
                self._active += 1
            try:
                if key is None:
                    self._sweep()
                    next_sweep = time.monotonic() + (self.rescan_interval or float("inf"))
                else:
                    self._reconcile(key)
            except WorkspaceError as exc:
                log.warning("workspace watcher: cannot scan %s: %s", key, exc.message)
            except Exception:
                log.exception("workspace watcher: reconciling %s failed", key or "all")
            finally:
                with self._cv:
                    self._active -= 1

    def _sweep(self) -> None:
        """Rescan every tracked path (the backstop for what inotify cannot see)."""
        with self.ctx.db.read() as session:
            keys = [(t.tracked.workspace_id, t.tracked.path) for t in wq.watch_targets(session)]
        with self._hub.lock:
            known = set(self._trees)
        for gone in known - set(keys):
            self._forget(gone)
        for key in keys:
            self._schedule(key)

    def _reconcile(self, key: Key) -> None:
        with self.ctx.db.read() as session:
            found = wq.watch_targets(session, workspace_id=key[0], path=key[1])
        if not found:
            self._forget(key)
            return
        target = found[0]
        tree = self._tree(key[0], key[1], target.tracked.kind)
        with tree.reconcile_lock:
            root_fd = safefs.open_root(Path(target.workspace_path), owner_uid=target.owner_uid)
            try:
                for attempt in range(SCAN_ATTEMPTS):
                    try:
                        self._full_scan(tree, root_fd, target.tracked)
                        return
                    except NotFound:  # a file went away between listing and hashing it
                        if attempt == SCAN_ATTEMPTS - 1:
                            raise
            finally:
                os.close(root_fd)

    def _full_scan(self, tree: WatchedTree, root_fd: int, tracked: TrackedPath) -> None:
        started = time.monotonic()
        token = tree.begin(root_fd, _baseline(tracked))
        if token is None:
            if tree.unwatched:
                log.warning("not watching %s: %s", tracked.path, tree.unwatched)
            return
        with self.ctx.db.read() as session:
            cache = wq.tracked_files(session, tracked.id)
        state = local.compare(root_fd, tracked.path, tracked.kind, cache)
        if state.refreshed:
            with self.ctx.db.write() as session:
                wq.refresh_tracked_files(session, tracked.id, state.refreshed)
        if tree.finish(token, state):
            self.full_scans += 1
            held = watch_polled(tree, state)
            log.info("watching %s: %d files, %d directory and %d file watches, scanned in "
                     "%.2fs", tracked.path, len(state.files), len(tree.wds), held,
                     time.monotonic() - started)

    def _overflowed(self) -> None:
        self.overflows += 1
        log.warning("inotify queue overflowed (fs.inotify.max_queued_events): events were "
                    "lost, rescanning every watched path")

    # --- tests and shutdown ---------------------------------------------------------------------

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Until no reconcile is pending or running (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cv:
                pending = bool(self._pending) or self._active > 0
            with self._hub.lock:
                trees = list(self._trees.values())
            busy = any(t.reconcile_lock.locked() for t in trees)
            if not pending and not busy:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._worker.join(timeout=30)
        with self._hub.lock:
            keys = list(self._trees)
        for key in keys:
            self._forget(key)
        self._barrier.close()
        self._inotify.close()


def _baseline(tracked: TrackedPath) -> tuple[int, int]:
    return (tracked.dataset_id, tracked.version)

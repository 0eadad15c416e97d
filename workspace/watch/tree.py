"""One watched tracked path: its inotify watches and what changed since its last full scan.

State per tracked path (all guarded by the shared :class:`Hub` lock):

- ``dirty``: relpaths (relative to the tracked path) touched by an event since
  the last reconcile, each with the sequence number of its last event;
- ``dirty_dirs``: directories created, deleted or moved in or out, whose whole
  subtree must be listed again;
- ``polled``: writable files with more than one link (for a root daemon: any
  file with more than one link), stat-ed at every status (a write through a
  link outside the watched tree sends no event here), unless a watch on the
  file's own inode holds them (``files``, see ``files.py``);
- ``reconciled``/``baseline``: a full scan (with watches already in place)
  found exactly the paths now in ``dirty`` to differ, for that dataset version.

A full scan "reconciles": it starts by bumping ``generation`` and rebuilding
every watch, takes ``epoch`` (the event counter), scans, then keeps the paths
it found differing plus those touched by events numbered after ``epoch``. Any
change after the epoch has an event after the epoch (the kernel queues it in
the syscall), and any change before it was seen by the scan. An overflow, a
vanished root or an operation on the path bumps ``generation``, and a scan
that started under an older generation is not trusted.
"""

from __future__ import annotations

import os
import posixpath
import threading
from collections.abc import Callable

from workspace.errors import WorkspaceError
from workspace.store import safefs
from workspace.store.safefs import TEMP_PREFIX
from workspace.watch.dirs import count_dirs, walk_dirs
from workspace.watch.files import FileWatches
from workspace.watch.hub import Baseline, Hub, Key, Snapshot, Token
from workspace.watch.inotify import Event, WatchFailed
from workspace.workspaces.local import LocalState


class WatchedTree:
    """The watches and dirty set of one tracked path; inotify calls ``on_*`` on its thread."""

    def __init__(self, hub: Hub, key: Key, kind: str, listener_id: int) -> None:
        self.hub = hub
        self.key = key
        self.kind = kind
        self.name = posixpath.basename(key[1])
        self.listener_id = listener_id
        self.reconcile_lock = threading.Lock()  # one full scan of this path at a time
        self.base_fd = -1  # the tracked directory (the parent of a tracked file)
        self.identity: tuple[int, int] | None = None
        self.wds: dict[int, str] = {}
        self.inodes: dict[tuple[int, int], int] = {}
        self.dirty: dict[str, int] = {}
        self.dirty_dirs: dict[str, int] = {}
        self.polled: set[str] = set()
        self.files = FileWatches()
        self.generation = 0
        self.reconciled = False
        self.busy = 0
        self.rebuilding = False
        self.baseline: Baseline | None = None
        self.unwatched: str | None = None

    # --- events (inotify reader thread) --------------------------------------------------

    def on_event(self, event: Event) -> None:
        new_dir, detached = None, []
        with self.hub.lock:
            if self._on_file_event(event.wd):
                return
            rel = self.wds.get(event.wd)
            if rel is None:
                return
            if event.self_gone or (not event.name and rel == ""):
                self._self_gone(rel)  # gone, or its own mode changed (may be unreadable now)
                return
            if not event.name or event.name.startswith(TEMP_PREFIX):
                return
            if self.kind == "file":
                if event.name == self.name:
                    self.dirty[self.name] = self.hub.tick()
                    if event.created or event.removed:
                        self.release_watches(self.files.forget([self.name]))
                return
            path = posixpath.join(rel, event.name)
            if not event.is_dir:
                self.dirty[path] = self.hub.tick()
                if event.created or event.removed:  # the name no longer leads to that inode
                    self.release_watches(self.files.forget([path]))
            elif self.rebuilding and (event.created or event.removed):
                self._invalidate()  # the walk may have named it before the move: walk again
            elif event.removed:
                self.dirty_dirs[path] = self.hub.tick()
                detached = self._detach(lambda r: r == path or r.startswith(path + "/"))
                self.release_watches(self.files.forget_under(path))
            elif event.created:
                new_dir = path
            else:  # its mode changed: list it again (a scan would fail if now unreadable)
                self.dirty_dirs[path] = self.hub.tick()
        self.hub.inotify.remove(detached)
        if new_dir is not None:
            self._watch_new(new_dir)

    def _on_file_event(self, wd: int) -> bool:
        """Lock held: an event on a held file's inode (through any of its names) dirties it."""
        paths = self.files.paths_of.get(wd)
        if paths is None:
            return False
        seq = self.hub.tick()
        for path in paths:
            self.dirty[path] = seq
        return True

    def on_watch_gone(self, wd: int) -> None:
        with self.hub.lock:
            held = self.files.gone(wd)
            if held:
                self.hub.in_use -= 1
                seq = self.hub.tick()
                self.dirty.update(dict.fromkeys(held, seq))
                return
            rel = self.wds.pop(wd, None)
            if rel is None:
                return
            self.hub.in_use -= 1
            self.inodes = {k: w for k, w in self.inodes.items() if w != wd}
            if rel == "":
                self._invalidate()

    def on_overflow(self) -> None:
        with self.hub.lock:
            self._invalidate()

    def _self_gone(self, rel: str) -> None:
        if rel == "" or self.rebuilding:
            self._invalidate()
        else:
            self.dirty_dirs[rel] = self.hub.tick()

    def _watch_new(self, path: str) -> None:
        """Watch a directory that appeared, then mark it: a status lists it only once watched."""
        with self.hub.lock:
            if self.base_fd < 0 or self.unwatched:
                return
            try:
                fd = safefs.open_dir(self.base_fd, path)
            except (WorkspaceError, OSError):
                self.dirty_dirs[path] = self.hub.tick()  # gone again, or a symlink: list it
                return
        try:
            for dir_fd, rel in walk_dirs(fd, path):
                self._add(dir_fd, rel)
        except WatchFailed as exc:
            self._give_up(f"it grew past what can be watched: {exc}")
            return
        finally:
            os.close(fd)
        with self.hub.lock:
            self.dirty_dirs[path] = self.hub.tick()

    # --- watches ---------------------------------------------------------------------------

    def rebuild(self, root_fd: int) -> bool:
        """Drop every watch and watch the tree again; False if it cannot be (see ``unwatched``).

        A directory created, moved or deleted while the walk runs may be
        named wrongly by it, so such an event invalidates the scan this
        rebuild is for (it is retried); afterwards, events keep names right.
        """
        self._drop_all()
        try:
            base = self._open_base(root_fd)
        except (WorkspaceError, OSError):
            return False  # missing for now: status scans, and reports it deleted
        with self.hub.lock:
            self.rebuilding = True
        try:
            self._watch_all(base)
        except WatchFailed as exc:
            os.close(base)
            self._give_up(str(exc))
            return False
        except BaseException:
            os.close(base)
            self._drop_all()
            raise
        finally:
            with self.hub.lock:
                self.rebuilding = False
        st = os.fstat(base)
        with self.hub.lock:
            self.base_fd, self.identity, self.unwatched = base, (st.st_dev, st.st_ino), None
        return True

    def _watch_all(self, base: int) -> None:
        """Count the directories first: a tree that does not fit takes no watch at all."""
        needed = count_dirs(base) if self.kind == "dir" else 1
        with self.hub.lock:
            free = self.hub.budget - self.hub.in_use
        if needed > free:
            raise WatchFailed(too_big(needed, free, self.hub.budget), limit=True)
        for fd, rel in walk_dirs(base) if self.kind == "dir" else [(base, "")]:
            self._add(fd, rel)

    def _open_base(self, root_fd: int) -> int:
        if self.kind == "dir":
            return safefs.open_dir(root_fd, self.key[1])
        fd, _ = safefs.open_parent(root_fd, self.key[1])
        return fd

    def _add(self, fd: int, rel: str) -> None:
        """Watch the directory open as ``fd``, named ``rel``: where the walk finds it now.

        Its inode already watched under another name is either a directory
        moved before the reader got to the move's events, or a deleted one's
        inode number reused before the reader saw the deletion. Either way
        that watch goes and a new one is added: the kernel keeps a moved one's
        watch, which the stale ``IN_MOVED_FROM`` would otherwise detach, and
        its ``IN_MOVED_TO`` went to no watch if the new parent was watched only
        after the move. What the dropped watch still had queued is covered by
        the walk's caller, which lists everything it walked.
        """
        st = os.fstat(fd)
        inode = (st.st_dev, st.st_ino)
        with self.hub.lock:
            known = self.inodes.get(inode)
            if known is not None and self.wds[known] == rel:
                return
            if known is not None:
                self.hub.inotify.remove(self._drop([known]))
            if self.hub.in_use >= self.hub.budget:
                raise WatchFailed("the daemon's inotify watch budget is used up", limit=True)
            wd = self.hub.inotify.add(fd, self, self.listener_id)
            self.wds[wd], self.inodes[inode] = rel, wd
            self.hub.in_use += 1

    def _detach(self, which: Callable[[str], bool]) -> list[tuple[int, int]]:
        """Forget the watches whose relpath ``which`` selects (lock held); remove them after."""
        return self._drop([wd for wd, rel in self.wds.items() if which(rel)])

    def _drop(self, gone: list[int]) -> list[tuple[int, int]]:
        for wd in gone:
            del self.wds[wd]
        self.inodes = {k: w for k, w in self.inodes.items() if w not in gone}
        self.hub.in_use -= len(gone)
        return [(wd, self.listener_id) for wd in gone]

    def release_watches(self, wds: list[int]) -> None:
        """Lock held: remove file watches no held path uses any more."""
        if not wds:
            return
        self.hub.in_use -= len(wds)
        self.hub.inotify.remove([(wd, self.listener_id) for wd in wds])

    def _drop_all(self) -> None:
        with self.hub.lock:
            detached = self._detach(lambda _: True)
            if self.base_fd >= 0:
                os.close(self.base_fd)
            self.base_fd, self.identity = -1, None
        self.hub.inotify.remove(detached)

    def _give_up(self, reason: str) -> None:
        self._drop_all()
        with self.hub.lock:
            self.release_watches(self.files.forget_all())
            self.unwatched = reason
            self.generation += 1
            self.reconciled = False

    def close(self) -> None:
        self._drop_all()
        with self.hub.lock:
            self.release_watches(self.files.forget_all())
        self.hub.inotify.forget_listener(self.listener_id)

    # --- reconcile and status (lock taken here) --------------------------------------------

    def _invalidate(self) -> None:
        """Lock held: nothing in memory may be trusted until the next full scan."""
        self.generation += 1
        self.reconciled = False
        self.hub.schedule(self.key)

    def invalidate(self) -> None:
        with self.hub.lock:
            self._invalidate()

    def begin(self, root_fd: int, baseline: Baseline) -> Token | None:
        """Start a full scan (``reconcile_lock`` held): rebuild the watches, then take the epoch."""
        with self.hub.lock:
            if self.busy:
                return None
            self.generation += 1
            self.reconciled = False
            generation = self.generation
        if not self.rebuild(root_fd):
            return None
        with self.hub.lock:
            return Token(generation, self.hub.seq, baseline)

    def finish(self, token: Token, state: LocalState) -> bool:
        """Adopt a full scan begun with ``token`` as the new baseline, unless it went stale."""
        with self.hub.lock:
            if self.generation != token.generation or self.busy or self.unwatched:
                return False
            later = {p: s for p, s in self.dirty.items() if s > token.epoch}
            self.dirty = {p: token.epoch for p in differing(state)} | later
            self.dirty_dirs = {d: s for d, s in self.dirty_dirs.items() if s > token.epoch}
            self._poll_unheld(state)
            self.baseline, self.reconciled = token.baseline, True
            return True

    def snapshot(self, baseline: Baseline) -> Snapshot | None:
        with self.hub.lock:
            if not self.reconciled or self.busy or self.baseline != baseline:
                return None
            return Snapshot(self.generation, self.hub.seq, dict(self.dirty),
                            dict(self.dirty_dirs), frozenset(self.polled))

    def settle(self, snap: Snapshot, state: LocalState) -> None:
        """Forget what a status found clean, unless it was touched again since its snapshot."""
        found = differing(state)
        with self.hub.lock:
            if self.generation != snap.generation:
                return
            for path, seq in snap.paths.items():
                if path not in found and self.dirty.get(path) == seq:
                    del self.dirty[path]
            for path, seq in snap.dirs.items():
                if self.dirty_dirs.get(path) == seq:
                    del self.dirty_dirs[path]
            for path in found:
                self.dirty.setdefault(path, snap.seq)
            self.polled -= snap.examined() - state.files.keys()
            for path, st in state.files.items():
                if shared_writable(st) and not self.files.holds(path, st):
                    self.polled.add(path)
                else:
                    self.polled.discard(path)

    def _poll_unheld(self, state: LocalState) -> None:
        """Lock held, after a full scan: poll what no file watch holds; drop stale watches.

        A watch that lived through the scan still holds its path if the scan
        found that inode there: it was in place before the scan's epoch.
        """
        shared = {p: st for p, st in state.files.items() if shared_writable(st)}
        stale = [p for p in self.files.of_path if p not in shared
                 or not self.files.holds(p, shared[p])]
        self.release_watches(self.files.forget(stale))
        self.polled = {p for p, st in shared.items() if not self.files.holds(p, st)}

    def same_base(self, root_fd: int) -> bool:
        """Is the directory at the tracked path still the one we watch (no ancestor swapped)?"""
        try:
            fd = self._open_base(root_fd)
        except (WorkspaceError, OSError):
            return False
        try:
            st = os.fstat(fd)
        finally:
            os.close(fd)
        with self.hub.lock:
            return self.identity == (st.st_dev, st.st_ino)


def differing(state: LocalState) -> set[str]:
    return {*state.added, *state.modified, *state.deleted, *state.unsupported}


def shared_writable(st: os.stat_result) -> bool:
    """Writable through another link (outside our watches) without a chmod we would see.

    For a daemon run as root (single-user: its user is root) that is every file
    with another link, 0444 objects included: root writes them without a chmod.
    """
    return st.st_nlink > 1 and (bool(st.st_mode & 0o222) or _AS_ROOT)


_AS_ROOT = os.geteuid() == 0


def too_big(needed: int, free: int, budget: int) -> str:
    return (f"it has {needed:,} directories and watching needs one inotify watch each, "
            f"but only {max(free, 0):,} of the daemon's {budget:,} are free "
            "(raise fs.inotify.max_user_watches, or the watch_max_watches setting)")

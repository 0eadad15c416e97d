"""inotify watches on directories and files the daemon opened itself (watchdog's ``InotifyFD``).

Why watchdog's low-level ``InotifyFD`` and not its ``Observer``:

- **Queue overflow.** When the kernel queue (``fs.inotify.max_queued_events``)
  overflows, events are lost and one ``IN_Q_OVERFLOW`` (wd -1) is queued.
  watchdog <= 7.0 drops that event unread; 7.1 logs a warning ("Inotify queue
  overflowed; filesystem events were lost"), rebuilds the Observer's recursive
  watches, and calls ``on_queue_overflow()`` on every ``WatchCallback``
  registered with the ``InotifyFD`` — but an Observer's event *handler* never
  hears of it. Registering our own callbacks on an ``InotifyFD`` we own gets
  that call directly, for exactly our inotify instance, with no log scraping
  (a log hook could not tell which instance overflowed, and breaks when the
  message changes). Hence ``watchdog>=7.1,<8`` in pyproject.toml.
- **Symlink safety.** The Observer adds watches by path name (``os.walk``);
  we open every directory fd-relative with ``O_NOFOLLOW`` (``store.safefs``)
  and watch ``/proc/self/fd/N``, the very inode we opened.
- **Budget.** The Observer silently skips a subdirectory it fails to watch
  (e.g. ``ENOSPC``), which would leave a blind spot; here every failure is
  seen and the tracked path falls back to scanning.

Nothing outside this module touches watchdog's types: events arrive as
:class:`Event`.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from watchdog.observers.inotify_c import (
    CallbackId,
    InotifyConstants,
    InotifyEvent,
    InotifyFD,
    Mask,
    WatchDescriptor,
)

_C = InotifyConstants
MASK = Mask(
    _C.IN_MODIFY | _C.IN_ATTRIB | _C.IN_CLOSE_WRITE | _C.IN_CREATE | _C.IN_DELETE
    | _C.IN_MOVED_FROM | _C.IN_MOVED_TO | _C.IN_DELETE_SELF | _C.IN_MOVE_SELF
    | _C.IN_ONLYDIR | _C.IN_EXCL_UNLINK
)
"""Everything that changes a directory's entries or a file's bytes or metadata.

No ``IN_DONT_FOLLOW``: the watched path is the ``/proc/self/fd`` magic link,
which must be followed to the directory we opened.
"""

FILE_MASK = Mask(_C.IN_MODIFY | _C.IN_CLOSE_WRITE)
"""A write or truncate of the inode, through any of its names.

A watch on a file's inode (not on its directory) hears of changes made
through every hard link: a file linked from the store is written through a
name in a directory nobody watches. Renames and deletions of the
workspace's own name are the directory watch's to report.

No ``IN_ATTRIB``: it also fires when the link count changes, that is for
every file of every checkout of the same objects by anyone (10,000 events
for another user's checkout of a 10,000-file dataset, each read in Python,
made that checkout 60% slower). A chmod, chown or utime made through
*another* link changes no byte; status reports such a mode change after the
next timer rescan (``watch_rescan_interval``).
"""

MAX_USER_WATCHES = Path("/proc/sys/fs/inotify/max_user_watches")
STOP_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Event:
    """One inotify event on a watched directory; ``name`` is "" for the directory itself."""

    wd: int
    name: str
    is_dir: bool
    created: bool  # IN_CREATE or IN_MOVED_TO: a new entry
    removed: bool  # IN_DELETE or IN_MOVED_FROM: an entry gone
    self_gone: bool  # the watched directory itself was deleted, moved or unmounted


class Listener(Protocol):
    """What a watched tree implements; called on the inotify reader thread."""

    def on_event(self, event: Event) -> None: ...

    def on_watch_gone(self, wd: int) -> None: ...

    def on_overflow(self) -> None: ...


class WatchFailed(Exception):
    """A directory could not be watched; ``limit`` says whether the kernel's limit was hit."""

    def __init__(self, message: str, *, limit: bool) -> None:
        super().__init__(message)
        self.limit = limit


class _Callback:
    """watchdog's ``WatchCallback`` protocol, translated to :class:`Listener`."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener

    def on_event(self, event: InotifyEvent) -> None:
        self.listener.on_event(_translate(event))

    def on_watch_deleted(self, wd: WatchDescriptor) -> None:
        self.listener.on_watch_gone(int(wd))

    def on_queue_overflow(self) -> None:
        self.listener.on_overflow()


class Inotify:
    """One inotify instance and its reader thread (``InotifyFD``).

    The kernel's queue limit is fixed when the instance is created, so a
    test that lowers ``max_queued_events`` creates this object afterwards.
    """

    def __init__(self) -> None:
        self._fd = InotifyFD()
        self._fd.start()
        self._callbacks: dict[int, _Callback] = {}

    def add(self, dir_fd: int, listener: Listener, listener_id: int) -> int:
        """Watch the directory open as ``dir_fd`` for ``listener``; returns the watch descriptor."""
        return self._add(dir_fd, MASK, listener, listener_id)

    def add_file(self, fd: int, listener: Listener, listener_id: int) -> int:
        """Watch the inode of the file open as ``fd`` (``O_PATH`` is enough): see FILE_MASK.

        One listener adds an inode once: the kernel gives an inode watched
        already the same descriptor, and watchdog keeps one callback per
        listener and descriptor.
        """
        return self._add(fd, FILE_MASK, listener, listener_id)

    def _add(self, fd: int, mask: Mask, listener: Listener, listener_id: int) -> int:
        callback = self._callbacks.setdefault(listener_id, _Callback(listener))
        path = f"/proc/self/fd/{fd}".encode()
        try:
            wd = int(self._fd.add_callback(path, mask, callback, CallbackId(listener_id)))
        except OSError as exc:
            raise WatchFailed(exc.strerror or str(exc),
                              limit=exc.errno == errno.ENOSPC) from None
        if wd < 0:  # watchdog swallows EACCES and hands back -1
            self.remove([(wd, listener_id)])
            raise WatchFailed("permission denied", limit=False)
        return wd

    def remove(self, watches: list[tuple[int, int]]) -> None:
        """Drop (wd, listener id) pairs; the kernel watch goes when its last listener does."""
        if watches:
            self._fd.remove_callbacks(
                [(WatchDescriptor(wd), CallbackId(lid)) for wd, lid in watches])

    def forget_listener(self, listener_id: int) -> None:
        self._callbacks.pop(listener_id, None)

    def close(self) -> None:
        self._fd.stop()
        self._fd.join(STOP_TIMEOUT)


def _translate(event: InotifyEvent) -> Event:
    return Event(
        wd=int(event.wd),
        name=os.fsdecode(event.name),
        is_dir=bool(event.mask & _C.IN_ISDIR),
        created=event.is_create or event.is_moved_to,
        removed=event.is_delete or event.is_moved_from,
        self_gone=event.is_delete_self or event.is_move_self
        or bool(event.mask & _C.IN_UNMOUNT),
    )


def user_watch_limit() -> int | None:
    """``fs.inotify.max_user_watches``: shared by every inotify instance of the daemon's uid."""
    try:
        return int(MAX_USER_WATCHES.read_text().strip())
    except (OSError, ValueError):
        return None

"""Waiting until the inotify reader has handled every event queued before now.

A user who runs ``echo x > data/f; ws status`` expects to see ``f``: the
kernel queued the event during the ``write``, but the reader thread may not
have read it yet. The queue is first in, first out, so the status request
creates a marker file in a private directory watched by the same inotify
instance and waits until the reader reports that marker: by then every
earlier event has been handled. Each marker has its own name, so the kernel
cannot merge two requests' events into one. If the queue overflowed, the
marker may be lost: every waiter is then released with "in doubt".
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from workspace.watch.inotify import Event, Inotify

_PREFIX = "marker-"
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False

    def release(self, ok: bool) -> None:
        self.ok = ok
        self.done.set()


class Barrier:
    """``wait()`` returns once the events queued before it were handled; False if in doubt."""

    def __init__(self, inotify: Inotify, directory: Path, listener_id: int,
                 on_overflow: Callable[[], None]) -> None:
        self._on_overflow = on_overflow
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
                              | os.O_CLOEXEC)
        for stale in os.listdir(self.dir_fd):
            with contextlib.suppress(OSError):
                os.unlink(stale, dir_fd=self.dir_fd)
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiter] = {}
        self._names = (f"{_PREFIX}{secrets.token_hex(4)}-{n}" for n in itertools.count())
        self.inotify = inotify
        self.wd = inotify.add(self.dir_fd, self, listener_id)

    def wait(self, timeout: float) -> bool:
        waiter = _Waiter()
        with self._lock:
            name = next(self._names)
            self._waiting[name] = waiter
        try:
            os.close(os.open(name, _FLAGS, 0o600, dir_fd=self.dir_fd))
            os.unlink(name, dir_fd=self.dir_fd)
            return waiter.done.wait(timeout) and waiter.ok
        finally:
            with self._lock:
                self._waiting.pop(name, None)

    def on_event(self, event: Event) -> None:
        if event.wd != self.wd or not event.created:
            return
        with self._lock:
            waiter = self._waiting.pop(event.name, None)
        if waiter is not None:
            waiter.release(True)

    def on_watch_gone(self, wd: int) -> None:
        if wd == self.wd:
            self._release_all()

    def on_overflow(self) -> None:
        self._on_overflow()
        self._release_all()

    def _release_all(self) -> None:
        with self._lock:
            waiters, self._waiting = list(self._waiting.values()), {}
        for waiter in waiters:
            waiter.release(False)

    def close(self) -> None:
        self._release_all()
        os.close(self.dir_fd)

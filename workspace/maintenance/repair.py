"""Where a missing or corrupt object can be brought back from: repair sources.

A source offers candidate files for an object id; each is copied into the
store through an ordinary ingest batch, which hashes what it stored, so only
bytes that hash to the id are ever published (anything else is dropped).
``WorkspaceCopies`` is the first source: the files that registered workspaces
held with that content when the daemon last looked (their stat cache). A
hardlink of the damaged object shares its damage and fails the hash; a copy
(an unlocked file, an executable, another file system) may still be good.
``RemoteCopy`` comes next: the default remote's copy, downloaded (streamed,
bounded memory) into an unnamed temp file of the store, then ingested and
hashed like any other candidate.
"""

from __future__ import annotations

import contextlib
import logging
import os
import posixpath
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

from workspace.db import Database
from workspace.db.queries import health as hq
from workspace.db.queries import remotes as rq
from workspace.errors import WorkspaceError
from workspace.remotes import inventory, layout
from workspace.remotes.backend import Backend, RemoteOptions, open_backend
from workspace.remotes.inventory import Inventory
from workspace.remotes.url import parse_url
from workspace.store import ObjectStore, safefs

log = logging.getLogger(__name__)


class RepairSource(Protocol):
    """Something that may hold a good copy of an object."""

    name: str

    def candidates(self, oid: str) -> Iterator[tuple[str, int]]:
        """(description, open read-only fd) per candidate; the caller closes each fd."""
        ...


class WorkspaceCopies:
    """Files in registered workspaces that held the object when last checked."""

    name = "workspace"

    def __init__(self, db: Database) -> None:
        self._db = db

    def candidates(self, oid: str) -> Iterator[tuple[str, int]]:
        with self._db.read() as session:
            rows = hq.copies_of(session, oid)
        for root, uid, tracked, kind, relpath in rows:
            inner = tracked if kind == "file" else posixpath.join(tracked, relpath)
            fd = _open_quietly(root, uid, inner)
            if fd is not None:
                yield f"{root}/{inner}", fd


class RemoteCopy:
    """The default remote's copy of the object (its inventory is read once, on first use)."""

    name = "remote"

    def __init__(self, db: Database, store: ObjectStore, options: RemoteOptions) -> None:
        self._db = db
        self._store = store
        self._options = options
        self._remote: tuple[str, Backend, Inventory] | None = None
        self._tried = False

    def candidates(self, oid: str) -> Iterator[tuple[str, int]]:
        remote = self._open()
        if remote is None or not remote[2].has(oid):
            return
        name, backend, held = remote
        fd = os.open(".", os.O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600,
                     dir_fd=self._store.layout.tmp_fd)
        try:
            _download(backend, held, oid, fd)
        except (OSError, WorkspaceError) as exc:
            os.close(fd)
            log.warning("repair: %s could not be read from remote %s: %s", oid, name, exc)
            return
        yield name, fd

    def _open(self) -> tuple[str, Backend, Inventory] | None:
        """The default remote and its inventory; None without one, or if it cannot be read
        (then the object stays damaged, and the daemon's log says why)."""
        if self._remote is None and not self._tried:
            self._tried = True
            with self._db.read() as session:
                remote = rq.default(session)
                found = (remote.name, remote.url) if remote else None
            if found is None:
                return None
            try:
                backend = open_backend(parse_url(found[1]), self._options)
                held = inventory.objects(backend, self._options.concurrency)
            except WorkspaceError as exc:
                log.warning("repair: remote %s cannot be read: %s", found[0], exc.message)
                return None
            self._remote = (found[0], backend, held)
        return self._remote


def _download(backend: Backend, held: Inventory, oid: str, fd: int) -> None:
    """The remote's bytes for ``oid`` into ``fd`` (rewound); the caller hashes them."""
    place = held.packed.get(oid)
    if place is not None:
        chunks: Iterable[bytes] = backend.get_ranges(layout.pack_key(place.pack),
                                                     [(place.offset, place.size)])
    else:
        chunks = backend.get_stream(layout.object_key(oid))
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view):]
    os.lseek(fd, 0, os.SEEK_SET)


def restore(store: ObjectStore, oid: str, sources: list[RepairSource]) -> str | None:
    """Put a good copy of ``oid`` back in the store; where it came from, or None."""
    for source in sources:
        for where, fd in source.candidates(oid):
            try:
                if _ingest_if_good(store, oid, fd):
                    return f"{source.name}:{where}"
            finally:
                os.close(fd)
    return None


def _ingest_if_good(store: ObjectStore, oid: str, fd: int) -> bool:
    with store.batch() as batch:
        try:
            staged = batch.ingest_copy(fd)
        except (OSError, WorkspaceError):
            return False
        if staged.oid != oid:
            batch.abort()  # other bytes: nothing of them may be published
            return False
    return store.exists(oid)


def _open_quietly(root: str, uid: int | None, inner: str) -> int | None:
    """A read-only fd on ``root/inner``, walked without following symlinks; None if unreadable."""
    with contextlib.suppress(OSError, WorkspaceError):
        root_fd = safefs.open_root(Path(root), owner_uid=uid)
        try:
            parent, name = safefs.open_parent(root_fd, inner)
            try:
                fd, _ = safefs.open_regular_file(parent, name, owner_uid=None)
                return fd
            finally:
                os.close(parent)
        finally:
            os.close(root_fd)
    return None

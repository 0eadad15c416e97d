"""Where a missing or corrupt object can be brought back from: repair sources.

A source offers candidate files for an object id; each is copied into the
store through an ordinary ingest batch, which hashes what it stored, so only
bytes that hash to the id are ever published (anything else is dropped).
``WorkspaceCopies`` is the first source: the files that registered workspaces
held with that content when the daemon last looked (their stat cache). A
hardlink of the damaged object shares its damage and fails the hash; a copy
(an unlocked file, an executable, another file system) may still be good.
Remotes (issue 11) add a source of their own.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from workspace.db import Database
from workspace.db.queries import health as hq
from workspace.errors import WorkspaceError
from workspace.store import ObjectStore, safefs


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

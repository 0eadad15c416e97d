"""Checking objects on disk: their kind, mode and owner, and re-hashing their bytes.

``inspect`` looks at every name in one fan-out directory (no reading);
``Rehasher`` re-hashes objects on a pool of threads. BLAKE3 releases the GIL
while it hashes, so threads scale across cores: small objects are hashed
whole on one thread each (``hash_fd``: one ``pread``), large ones are mapped
and hashed with BLAKE3's own threads (``max_threads``), as ``hashing.py``
explains. Memory stays at one fan-out's names plus the pages being hashed.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from workspace.errors import WorkspaceError
from workspace.store.gc import list_fanout
from workspace.store.hashing import hash_fd, is_oid
from workspace.store.objects import ObjectStore

Progress = Callable[[int, int], None]  # (objects done, bytes done)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with one name in the store: ``kind`` is what ``ws fsck`` reports."""

    kind: str  # stray | type | owner | writable | size | corrupt
    oid: str
    detail: str


def inspect(store: ObjectStore, fanout: str, expected: dict[str, int]) -> tuple[
        list[Finding], dict[str, int]]:
    """Findings on the names in ``objects/<fanout>/`` and the size of every object there.

    ``expected`` maps referenced ids to the size their entries record.
    """
    findings: list[Finding] = []
    sizes: dict[str, int] = {}
    euid = os.geteuid()
    for name in list_fanout(store.layout.objects_fd, fanout):
        oid = fanout + name
        if not is_oid(oid):
            findings.append(Finding("stray", oid, f"objects/{fanout}/{name} is not an object name"))
            continue
        st = store.stat(oid)
        if st is None:
            continue
        sizes[oid] = st.st_size
        findings.extend(_judge(oid, st, euid, expected.get(oid)))
    return findings, sizes


def _judge(oid: str, st: os.stat_result, euid: int, size: int | None) -> list[Finding]:
    if not stat.S_ISREG(st.st_mode):
        return [Finding("type", oid, "not a regular file")]
    found = []
    if st.st_uid != euid:
        found.append(Finding("owner", oid, f"owned by uid {st.st_uid}, not the daemon's {euid}"))
    if st.st_mode & 0o222:
        found.append(Finding("writable", oid, f"mode {stat.S_IMODE(st.st_mode):o} is writable"))
    if size is not None and st.st_size != size:
        found.append(Finding("size", oid, f"{st.st_size} bytes, the versions say {size}"))
    return found


class Rehasher:
    """Re-hash objects in parallel; ``verify`` answers True/False per object (None: gone).

    One pool of threads for the rehasher's life: use it as a context manager.
    """

    def __init__(self, store: ObjectStore, *, threads: int | None = None,
                 progress: Progress = lambda objects, size: None) -> None:
        self._store = store
        self._pool = ThreadPoolExecutor(threads or max(2, os.cpu_count() or 2),
                                        thread_name_prefix="rehash")
        self._progress = progress
        self._lock = threading.Lock()
        self.objects = 0
        self.bytes = 0

    def verify(self, oids: Iterable[str]) -> dict[str, bool | None]:
        wanted = list(oids)
        return dict(zip(wanted, self._pool.map(self._verify_one, wanted), strict=True))

    def close(self) -> None:
        self._pool.shutdown()

    def __enter__(self) -> Rehasher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _verify_one(self, oid: str) -> bool | None:
        try:
            fd = self._store.open_object(oid)
        except WorkspaceError:
            return None
        try:
            st = os.fstat(fd)
            ok = stat.S_ISREG(st.st_mode) and hash_fd(fd, st.st_size) == oid
        finally:
            os.close(fd)
        with self._lock:
            self.objects += 1
            self.bytes += st.st_size
            self._progress(self.objects, self.bytes)
        return ok

"""Moving objects between the store and a remote, verified at both ends.

Upload: objects below ``PACK_BELOW`` are concatenated into packs of about
``PACK_TARGET`` bytes (10,000 small files become three requests, not 10,000);
larger ones stream from the store, multipart, a few MiB in memory at a time.
Every object is re-hashed as it is read, so a damaged local object is never
sent under its name (the upload is aborted and the object named).

Download: packed objects come as ranged reads of their pack (neighbouring
ranges coalesced), loose ones as streams; every object's bytes are hashed
as they are written to a store temp file and only an exact match is
published, through the store's ordinary ingest batch (durable before
visible). A mismatch is refused with ``StoreCorrupt`` (exit 7) naming the
object and where on the remote it came from.

Work is spread over ``concurrency`` threads; the first failure stops what
has not started and is raised. What completed stays done, so running the
command again resumes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from workspace.errors import StoreCorrupt
from workspace.remotes import layout
from workspace.remotes.backend import Backend
from workspace.remotes.inventory import Inventory
from workspace.store import ObjectStore
from workspace.store.hashing import Hasher, hash_bytes
from workspace.store.pins import PinLease

_READ_CHUNK = 8 * 1024 * 1024
_RANGE_BATCH = 16 * 1024 * 1024
"""Bytes of one pack fetched (and held in memory) at a time by one worker."""


@dataclass
class Tally:
    """Objects and bytes moved so far, reported (cumulative) to ``report``."""

    report: Callable[[int, int], None]
    objects: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, objects: int, size: int) -> None:
        with self._lock:
            self.objects += objects
            self.bytes += size
            done = (self.objects, self.bytes)
        self.report(*done)


def upload(store: ObjectStore, backend: Backend, wanted: dict[str, int], *,
           concurrency: int, tally: Tally) -> None:
    """Send every object of ``wanted`` (oid -> size) to the remote."""
    small = sorted(oid for oid, size in wanted.items() if size < layout.PACK_BELOW)
    large = sorted(oid for oid, size in wanted.items() if size >= layout.PACK_BELOW)
    tasks: list[Callable[[], None]] = [
        _bind(_upload_pack, store, backend, group, tally) for group in _groups(small, wanted)]
    tasks += [_bind(_upload_loose, store, backend, oid, wanted[oid], tally) for oid in large]
    run_all(tasks, concurrency)


def download(store: ObjectStore, backend: Backend, wanted: dict[str, int],
             inventory: Inventory, *, concurrency: int, tally: Tally,
             lease: PinLease | None = None) -> None:
    """Bring every object of ``wanted`` into the store, verified; the caller checked
    that the inventory has each one. Objects are pinned in ``lease`` (gc keeps them)
    until the caller's versions reference them."""
    by_pack: dict[str, list[str]] = {}
    tasks: list[Callable[[], None]] = []
    for oid in sorted(wanted):
        place = inventory.packed.get(oid)
        if place is not None:
            by_pack.setdefault(place.pack, []).append(oid)
        else:
            tasks.append(_bind(_download_loose, store, backend, oid, wanted[oid], tally, lease))
    for pack, oids in by_pack.items():
        oids.sort(key=lambda o: inventory.packed[o].offset)
        for group in _groups(oids, {o: inventory.packed[o].size for o in oids},
                             limit=_RANGE_BATCH):
            tasks.append(_bind(_download_packed, store, backend, pack, group, inventory, tally,
                               lease))
    run_all(tasks, concurrency)


def run_all(tasks: list[Callable[[], None]], concurrency: int) -> None:
    """Run ``tasks`` on ``concurrency`` threads; raise the first failure after the
    running ones end (the rest never start)."""
    if not tasks:
        return
    with ThreadPoolExecutor(max(1, min(concurrency, len(tasks)))) as pool:
        futures = [pool.submit(task) for task in tasks]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is not None:
                raise future.exception()  # type: ignore[misc]


def _bind(func: Callable[..., None], *args: object) -> Callable[[], None]:
    return lambda: func(*args)


def _groups(oids: list[str], sizes: dict[str, int],
            limit: int = layout.PACK_TARGET) -> Iterator[list[str]]:
    group: list[str] = []
    total = 0
    for oid in oids:
        group.append(oid)
        total += sizes[oid]
        if total >= limit:
            yield group
            group, total = [], 0
    if group:
        yield group


def _upload_pack(store: ObjectStore, backend: Backend, group: list[str], tally: Tally) -> None:
    buffer = bytearray()
    entries = []
    for oid in group:
        data = _read_small(store, oid)
        entries.append((oid, len(buffer), len(data)))
        buffer += data
    pack = bytes(buffer)
    pack_id = hash_bytes(pack)
    backend.put_bytes(layout.pack_key(pack_id), pack)
    backend.put_bytes(layout.index_key(pack_id), layout.encode_index(entries))  # publishes it
    tally.add(len(group), len(pack))


def _read_small(store: ObjectStore, oid: str) -> bytes:
    fd = store.open_object(oid)
    try:
        data = os.pread(fd, os.fstat(fd).st_size, 0)
    finally:
        os.close(fd)
    if hash_bytes(data) != oid:
        raise _damaged_here(store, oid)
    return data


def _upload_loose(store: ObjectStore, backend: Backend, oid: str, size: int,
                  tally: Tally) -> None:
    fd = store.open_object(oid)
    try:
        backend.put_stream(layout.object_key(oid), _verified_chunks(store, fd, oid, tally), size)
    finally:
        os.close(fd)
    tally.add(1, 0)


def _verified_chunks(store: ObjectStore, fd: int, oid: str, tally: Tally) -> Iterator[bytes]:
    """The object's bytes; raising at the end (which aborts the upload) if they do not
    hash to ``oid``."""
    size = os.fstat(fd).st_size
    hasher = Hasher(size)
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(_READ_CHUNK, size - offset), offset)
        if not chunk:
            break
        hasher.update(chunk)
        offset += len(chunk)
        tally.add(0, len(chunk))
        if offset < size:
            yield chunk
        else:
            last = chunk
    if offset != size or hasher.oid() != oid:
        raise _damaged_here(store, oid)
    if size:
        yield last


def _download_loose(store: ObjectStore, backend: Backend, oid: str, size: int,
                    tally: Tally, lease: PinLease | None) -> None:
    key = layout.object_key(oid)

    def counted() -> Iterator[bytes]:
        for chunk in backend.get_stream(key):
            tally.add(0, len(chunk))
            yield chunk

    _ingest(store, backend, key, [(oid, size, counted())], lease)
    tally.add(1, 0)


def _download_packed(store: ObjectStore, backend: Backend, pack: str, group: list[str],
                     inventory: Inventory, tally: Tally, lease: PinLease | None) -> None:
    places = [inventory.packed[oid] for oid in group]
    key = layout.pack_key(pack)
    chunks = backend.get_ranges(key, [(p.offset, p.size) for p in places])
    _ingest(store, backend, key, [(oid, p.size, iter([data]))
                                  for oid, p, data in zip(group, places, chunks, strict=True)],
            lease)
    tally.add(len(group), sum(p.size for p in places))


def _ingest(store: ObjectStore, backend: Backend, key: str,
            items: list[tuple[str, int, Iterator[bytes]]], lease: PinLease | None) -> None:
    """One ingest batch for ``items``: all verified and durable, or nothing published."""
    with store.batch(lease) as batch:
        for oid, size, chunks in items:
            try:
                batch.ingest_verified(chunks, expect=oid, size=size)
            except StoreCorrupt as exc:
                raise StoreCorrupt(
                    f"object {oid} from {backend.description}/{key} is corrupt: its bytes hash "
                    f"to {exc.details.get('received')}; it was refused and nothing was "
                    "published", hint="push it again from a server whose copy is good "
                    "(`ws push`); `ws fsck --read-data` there checks it first",
                    details={"oid": oid, "remote": backend.description, "key": key}) from None


def _damaged_here(store: ObjectStore, oid: str) -> StoreCorrupt:
    return StoreCorrupt(
        f"object {oid} in this server's store does not hash to its name: it was not pushed",
        hint="run `ws fsck --read-data` (admin) to quarantine and repair it, then push again",
        details={"oid": oid, "path": str(store.object_path(oid))})

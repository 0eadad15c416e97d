"""The store's half of gc, in process: pins, links, grace and the fan-out lock.

``Sweeper`` is driven with the references given directly (nothing is
referenced), so each test isolates one rule that keeps an object alive.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from workspace.store import ObjectStore, hash_bytes
from workspace.store.gc import Sweeper


def _object(store: ObjectStore, data: bytes) -> str:
    oid = hash_bytes(data)
    fd = os.open(store.root / "src", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        with store.batch() as batch:
            batch.ingest_copy(fd)
    finally:
        os.close(fd)
        os.unlink(store.root / "src")
    assert store.exists(oid)
    return oid


def _sweep(store: ObjectStore) -> Sweeper:
    sweeper = Sweeper(store, grace=0, dry_run=False, now=time.time() + 1)
    sweeper.sweep(lambda first, last: set(), lambda oids: set())
    return sweeper


def test_unreferenced_objects_go(store: ObjectStore) -> None:
    oid = _object(store, b"orphan")
    assert _sweep(store).report.removed == 1
    assert not store.exists(oid)


def test_an_object_a_batch_deduplicated_stays_while_the_lease_is_held(
        store: ObjectStore, tmp_path: Path) -> None:
    oid = _object(store, b"shared bytes")
    source = tmp_path / "again"
    source.write_bytes(b"shared bytes")
    lease = store.pins.lease()
    fd = os.open(source, os.O_RDONLY)
    try:
        with store.batch(lease) as batch:
            assert batch.ingest_copy(fd).new is False  # deduplicated: the batch trusts it
    finally:
        os.close(fd)
    assert _sweep(store).report.pinned == 1
    assert store.exists(oid)  # the version that names it has not committed yet
    lease.release()
    assert _sweep(store).report.removed == 1


def test_an_object_linked_in_a_workspace_stays(store: ObjectStore, ws_fd: int) -> None:
    oid = _object(store, b"checked out")
    store.link_into(oid, ws_fd, "file")
    report = _sweep(store).report
    assert (report.removed, report.linked) == (0, 1)
    assert store.exists(oid)


def test_young_objects_stay_for_the_grace_period(store: ObjectStore) -> None:
    oid = _object(store, b"new")
    sweeper = Sweeper(store, grace=3600, dry_run=False)
    sweeper.sweep(lambda first, last: set(), lambda oids: set())
    assert (sweeper.report.removed, sweeper.report.young) == (0, 1)
    assert store.exists(oid)


def test_referenced_on_recheck_stays(store: ObjectStore) -> None:
    oid = _object(store, b"committed meanwhile")
    sweeper = Sweeper(store, grace=0, dry_run=False, now=time.time() + 1)
    sweeper.sweep(lambda first, last: set(), lambda oids: set(oids))
    assert sweeper.report.removed == 0 and store.exists(oid)


def test_pinning_waits_for_an_unlink_in_progress_and_then_sees_it_gone(
        store: ObjectStore) -> None:
    """gc holds the fan-out lock from its last check to the unlink: an operation that
    pins meanwhile waits, then finds no object (so it stores its own copy). Without
    the lock it could see the object, trust it, and lose it a moment later."""
    oid = _object(store, b"contended")
    in_recheck, release = threading.Event(), threading.Event()

    def slow_recheck(oids: list[str]) -> set[str]:
        in_recheck.set()
        release.wait(10)
        return set()

    sweeper = Sweeper(store, grace=0, dry_run=False, now=time.time() + 1)
    gc = threading.Thread(target=sweeper.sweep, args=(lambda a, b: set(), slow_recheck))
    gc.start()
    assert in_recheck.wait(10)
    seen: list[bool] = []
    pinner = threading.Thread(target=lambda: seen.append(
        store.pin_existing(store.pins.lease(), oid)))
    pinner.start()
    time.sleep(0.2)
    assert seen == []  # waiting for gc's lock
    release.set()
    gc.join(10)
    pinner.join(10)
    assert seen == [False] and not store.exists(oid)

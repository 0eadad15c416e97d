"""The eviction pass in process: pins keep objects, the fan-out lock orders it with a
checkout, and the evicted record is written before the unlink.

``Evictor`` is given the remote's holdings and the references directly, so each
test isolates one rule (the daemon-level behaviour is in ``test_evict.py``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from workspace.db import Database, migrate
from workspace.db.queries import health as hq
from workspace.maintenance.evict import Evictor
from workspace.store import ObjectStore, hash_bytes
from workspace.workspaces.context import ServiceContext


class _SlowDb(Database):
    """A database whose write transactions wait for the test (``hold``) before starting."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered, self.hold = threading.Event(), threading.Event()
        self.hold.set()

    @contextmanager
    def write(self) -> Iterator[Session]:
        self.entered.set()
        assert self.hold.wait(10)
        with super().write() as session:
            yield session


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[ServiceContext]:
    url = f"sqlite:///{tmp_path / 'ws.db'}"
    migrate(url)
    db = _SlowDb(url)
    store = ObjectStore.open(tmp_path / "store")
    yield ServiceContext(db=db, store=store)
    store.close()
    db.dispose()


def _object(ctx: ServiceContext, data: bytes) -> str:
    source = ctx.store.root / "src"
    source.write_bytes(data)
    fd = os.open(source, os.O_RDONLY)
    try:
        with ctx.store.batch() as batch:
            batch.ingest_copy(fd)
    finally:
        os.close(fd)
        source.unlink()
    return hash_bytes(data)


def _evicted(ctx: ServiceContext, oids: list[str]) -> dict[str, str]:
    with ctx.db.read() as session:
        return hq.evicted_among(session, ctx.store.store_id, oids)


def test_only_referenced_unpinned_objects_the_remote_holds_are_evicted(
        ctx: ServiceContext) -> None:
    held, pinned, absent, loose = (_object(ctx, data) for data in (b"a", b"bb", b"ccc", b"dd"))
    lease = ctx.store.pins.lease()
    lease.pin(pinned)
    remote = {held: 1, pinned: 2, loose: 2}  # ``absent`` is not on the remote
    report = Evictor(ctx, "origin", remote, dry_run=False).run(
        lambda first, last: {held, pinned, absent})  # ``loose``: no version references it
    assert (report.evicted, report.evicted_bytes, report.pinned, report.not_on_remote) == (
        1, 1, 1, 1)
    assert not ctx.store.exists(held)
    assert all(ctx.store.exists(oid) for oid in (pinned, absent, loose))
    assert _evicted(ctx, [held, pinned, absent, loose]) == {held: "origin"}
    lease.release()


def test_a_dry_run_records_and_removes_nothing(ctx: ServiceContext) -> None:
    oid = _object(ctx, b"kept")
    report = Evictor(ctx, "origin", {oid: 4}, dry_run=True).run(lambda first, last: {oid})
    assert report.evicted == 1 and ctx.store.exists(oid) and _evicted(ctx, [oid]) == {}


def test_a_size_the_remote_disagrees_with_is_not_evicted(ctx: ServiceContext) -> None:
    oid = _object(ctx, b"four")
    report = Evictor(ctx, "origin", {oid: 5}, dry_run=False).run(lambda first, last: {oid})
    assert (report.evicted, report.not_on_remote) == (0, 1) and ctx.store.exists(oid)


def test_a_checkout_looking_during_the_unlink_waits_and_then_sees_it_gone(
        ctx: ServiceContext) -> None:
    """Evict holds the fan-out lock from its last check to the unlink; a checkout pins and
    looks under the same lock, so it never trusts an object about to disappear (it
    fetches it instead)."""
    oid = _object(ctx, b"contended")
    db = ctx.db
    assert isinstance(db, _SlowDb)
    db.entered.clear()
    db.hold.clear()
    evictor = Evictor(ctx, "origin", {oid: 9}, dry_run=False)
    evicting = threading.Thread(target=evictor.run, args=(lambda first, last: {oid},))
    evicting.start()
    assert db.entered.wait(10)  # recording the eviction, under the lock
    seen: list[bool] = []
    lease = ctx.store.pins.lease()
    looker = threading.Thread(target=lambda: seen.append(ctx.store.pin_existing(lease, oid)))
    looker.start()
    time.sleep(0.2)
    assert seen == []  # waiting for the fan-out lock
    db.hold.set()
    evicting.join(10)
    looker.join(10)
    assert seen == [False] and not ctx.store.exists(oid)
    assert _evicted(ctx, [oid]) == {oid: "origin"}
    lease.release()

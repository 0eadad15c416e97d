"""Object ACLs survive crashes and upgrades: kill -9 in the middle of a revoke, and a store
made before objects had ACLs (0444), converted at the next service-mode start."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.service.acl_support import (
    POLL_INTERVAL,
    all_objects,
    eventually,
    open_home,
    readers,
    reads,
    write_files,
    ws,
    ws_json,
)
from tests.service.conftest import needs_root
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon
from workspace import posixacl

pytestmark = needs_root
FILES = 1500
BATCH = 20


@dataclass
class Setup:
    daemon: ServiceDaemon
    admin_dir: Path
    alice: Identity
    bob: Identity
    bob_data: Path

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        return ws(self.daemon, self.daemon.owner, *args, cwd=self.admin_dir)

    @property
    def db(self) -> Path:
        return self.daemon.home / "workspace.db"


def _start(runtime: Runtime, svc: Identity, name: str) -> ServiceDaemon:
    home = runtime.make_dir(svc, f"{name}-home")
    run_dir = runtime.make_dir(svc, f"{name}-run")
    return ServiceDaemon(runtime, svc, home, f"sqlite:///{home / 'workspace.db'}",
                         extra_env={"WORKSPACE_MODE": "service", "HOME": str(runtime.scratch),
                                    "WORKSPACE_ADMIN": svc.name,
                                    "WORKSPACE_ACL_POLL_INTERVAL": POLL_INTERVAL,
                                    "WORKSPACE_ACL_BATCH_SIZE": str(BATCH)},
                         run_dir=run_dir).start()


def _shared(runtime: Runtime, daemon: ServiceDaemon, files: dict[str, bytes]) -> Setup:
    alice, bob = runtime.user("alice"), runtime.user("bob")
    setup = Setup(daemon, runtime.make_dir(daemon.owner, "admin"), alice, bob, Path())
    for who in (alice, bob):
        setup.admin("user", "add", who.name)
    setup.admin("role", "grant", alice.name, "writer", "big/*")
    setup.admin("role", "grant", bob.name, "reader", "big/*")
    alice_project = open_home(runtime, alice)
    write_files(alice_project / "data", alice, files)
    ws(daemon, alice, "init", cwd=alice_project)
    ws(daemon, alice, "add", "data", "-d", "big/data", "-m", "many files", cwd=alice_project)
    bob_project = open_home(runtime, bob)
    ws(daemon, bob, "init", cwd=bob_project)
    ws(daemon, bob, "get", "big/data", "data", cwd=bob_project)
    setup.bob_data = bob_project / "data"
    return setup


@pytest.fixture
def many(runtime: Runtime, svc: Identity) -> Iterator[Setup]:
    daemon = _start(runtime, svc, "acl-crash")
    files = {f"d{i % 30:02d}/f{i:05d}": os.urandom(32) for i in range(FILES)}
    try:
        yield _shared(runtime, daemon, files)
    finally:
        daemon.stop()


def _progress(db: Path) -> tuple[int, int] | None:
    """(done, total) of the queued holding, read as root from the daemon's SQLite database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT done, total FROM acl_holdings WHERE dirty").fetchone()
    return None if row is None else (row[0], row[1])


def _still_reading(store: Path, uid: int) -> int:
    return sum(1 for path in all_objects(store) if uid in readers(path).users)


def test_kill_9_in_the_middle_of_a_revoke_resumes_and_ends_right(
        many: Setup, runtime: Runtime) -> None:
    store, bob, alice = many.daemon.store, many.bob, many.alice
    assert _still_reading(store, bob.uid) == FILES
    many.admin("role", "revoke", bob.name, "reader", "big/*")
    eventually(lambda: (p := _progress(many.db)) is not None and 0 < p[0] < p[1],
               "the revoke's ACL work is under way")
    os.kill(many.daemon.process.pid, signal.SIGKILL)  # type: ignore[union-attr]
    many.daemon.process.wait()  # type: ignore[union-attr]
    many.daemon.process = None
    left = _still_reading(store, bob.uid)
    assert 0 < left < FILES, left  # really interrupted part-way

    many.daemon.start()
    eventually(lambda: not ws_json(many.daemon, many.daemon.owner, "acl", "status",
                                   cwd=many.admin_dir)["queue"], "the queue drains after restart")
    for path in all_objects(store):  # nobody who lost read keeps it, nobody who holds it lost it
        assert readers(path).users == {alice.uid}, path
        assert stat.S_IMODE(path.lstat().st_mode) == 0o440
    sample = sorted(many.bob_data.rglob("f*"))[:20]
    assert set(reads(runtime, bob, sample).values()) == {"EACCES"}


@pytest.fixture
def old_store(runtime: Runtime, svc: Identity) -> Iterator[Setup]:
    daemon = _start(runtime, svc, "acl-convert")
    files = {"a.csv": os.urandom(40), "sub/b.bin": os.urandom(400)}
    try:
        yield _shared(runtime, daemon, files)
    finally:
        daemon.stop()


def test_a_store_from_before_object_acls_is_converted_at_start(
        old_store: Setup, runtime: Runtime) -> None:
    daemon, alice, bob = old_store.daemon, old_store.alice, old_store.bob
    daemon.stop()
    for path in all_objects(daemon.store):  # what the previous release left: 0444, no ACL
        os.removexattr(path, posixacl.ACCESS, follow_symlinks=False)
        path.chmod(0o444)
    with sqlite3.connect(old_store.db) as conn:
        conn.executescript("DELETE FROM acl_copies; DELETE FROM acl_objects; "
                           "DELETE FROM acl_holdings; UPDATE acl_stores SET converted = 0;")
    carol = runtime.user("carol")
    files = sorted(p for p in old_store.bob_data.rglob("*") if p.is_file())
    assert set(reads(runtime, carol, files).values()) == {"ok"}  # the hole this closes

    daemon.start()
    for path in all_objects(daemon.store):
        assert readers(path).users == {alice.uid, bob.uid}
        assert stat.S_IMODE(path.lstat().st_mode) == 0o440
    assert set(reads(runtime, carol, files).values()) == {"EACCES"}
    assert set(reads(runtime, bob, files).values()) == {"ok"}
    events = ws_json(daemon, daemon.owner, "audit", "--action", "acl:store:convert",
                     cwd=old_store.admin_dir)["events"]
    assert [e["detail"]["objects"] for e in events] == [2]

"""A real store (service mode: private), a real database and the real policy engine, in process.

Root reads every file, so these tests look at what the ACLs *say*; reads by
real users through real links are in ``tests/service/test_object_acl.py``.
The users are the suite's real Unix users (their uids and groups matter).
"""

from __future__ import annotations

import grp
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.runtime import REPO, Identity, Runtime
from workspace.acl import queue
from workspace.acl.core import AclCore
from workspace.acl.service import KernelAcl
from workspace.auth.identity import Caller
from workspace.db import Database, migrate
from workspace.db.queries import users
from workspace.policy import Authorizer
from workspace.store import ObjectStore
from workspace.store.acl import Readers

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs real Unix users (root)")


@dataclass
class AclEnv:
    db: Database
    store: ObjectStore
    authorizer: Authorizer
    core: AclCore
    callers: dict[str, Caller] = field(default_factory=dict)

    @property
    def acl(self) -> KernelAcl:
        return KernelAcl(self.core)

    def user(self, who: Identity, *groups: str) -> Caller:
        with self.db.write() as session:
            row = users.by_name(session, who.name) or users.create(session, name=who.name,
                                                                   uid=who.uid)
            caller = Caller(row.id, row.name, row.uid, tuple(groups))
        self.callers[who.name] = caller
        return caller

    def objects(self, *contents: bytes) -> list[str]:
        with self.store.batch() as batch:
            staged = [batch.ingest_copy(_memfd(data)) for data in contents]
        return [s.oid for s in staged]

    def grant_role(self, subject: str, role: str, pattern: str) -> None:
        with self.db.write() as session:
            self.authorizer.grant_role(session, subject, role, pattern)

    def revoke_role(self, subject: str, role: str, pattern: str) -> None:
        with self.db.write() as session:
            self.authorizer.revoke_role(session, subject, role, pattern)

    def settle(self) -> None:
        """What the worker does on its next tick: evaluate, then drain the queue."""
        queue.evaluate_if_due(self.core, refresh_interval=3600)
        while queue.next_batch(self.core):
            pass

    def readers(self, oid: str) -> Readers:
        return self.store.readers(oid)


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("object")
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[AclEnv]:
    migrate(database_url)
    db = Database(database_url)
    store = ObjectStore.open(tmp_path / "store", private=True)
    authorizer = Authorizer(db, REPO / "policies", poll_interval=0.0)
    with db.write() as session:
        authorizer.load_defaults_if_empty(session)
    core = AclCore.open(db, store, authorizer, batch_size=7)
    yield AclEnv(db, store, authorizer, core)
    store.close()
    db.dispose()


@pytest.fixture
def team(runtime: Runtime) -> Iterator[tuple[str, int]]:
    """A Unix group unique to the test (members change); removed afterwards."""
    name = f"wst-team-{secrets.token_hex(3)}"
    subprocess.run(["groupadd", name], check=True)
    try:
        yield name, grp.getgrnam(name).gr_gid
    finally:
        subprocess.run(["groupdel", name], check=False)


def add_member(group: str, who: Identity) -> None:
    subprocess.run(["gpasswd", "-a", who.name, group], check=True, capture_output=True)


def remove_member(group: str, who: Identity) -> None:
    subprocess.run(["gpasswd", "-d", who.name, group], check=True, capture_output=True)

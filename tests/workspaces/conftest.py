"""The workspace services in process, on a real store and a migrated database.

For what a test must observe from inside an operation (between its phases),
which a daemon in another process cannot show: the services' progress hooks
run in the middle of the file work.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.databases import database
from workspace.auth import Caller, bootstrap_admin
from workspace.db import Database, migrate
from workspace.store import ObjectStore, prepare_leases
from workspace.workspaces import registry
from workspace.workspaces.context import ServiceContext


@dataclass
class Services:
    ctx: ServiceContext
    caller: Caller
    tmp: Path

    def workspace(self, name: str) -> Path:
        """A new registered workspace directory of the caller."""
        root = self.tmp / name
        root.mkdir()
        with self.ctx.db.write() as session:
            registry.register(session, self.caller, str(root))
        return root


@pytest.fixture(params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    yield from _services(request.param, tmp_path)


@pytest.fixture
def sqlite_services(tmp_path: Path) -> Iterator[Services]:
    """The same on SQLite only, for behaviour that does not depend on the database."""
    yield from _services("sqlite", tmp_path)


def _services(kind: str, tmp_path: Path) -> Iterator[Services]:
    home = tmp_path / "home"
    home.mkdir()
    previous = signal.getsignal(signal.SIGIO)
    with database(kind, home) as url:
        migrate(url)
        db = Database(url)
        store = ObjectStore.open(home / "store")
        prepare_leases()
        with db.write() as session:
            caller = bootstrap_admin(session, os.geteuid())
        yield Services(ServiceContext(db=db, store=store), caller, tmp_path)
        store.close()
        db.dispose()
    signal.signal(signal.SIGIO, previous)

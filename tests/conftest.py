"""Shared fixtures: the process runtime, databases, and a running daemon."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.daemon import Daemon
from tests.support.databases import database
from tests.support.runtime import Identity, Runtime, make_runtime
from tests.support.team import Teams


@pytest.fixture(scope="session")
def runtime() -> Iterator[Runtime]:
    made = make_runtime()
    yield made
    made.close()


@pytest.fixture(scope="session")
def teams(runtime: Runtime) -> Iterator[Teams]:
    """Daemons with a team of users and data, shared by the tests of a feature (team.py)."""
    made = Teams()
    with made.stack:
        yield made


@pytest.fixture
def alice(runtime: Runtime) -> Identity:
    return runtime.user("alice")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, runtime: Runtime, alice: Identity,
                 ) -> Iterator[str]:
    directory = runtime.make_dir(alice, "db")
    with database(request.param, directory) as url:
        yield url


@pytest.fixture
def daemon(runtime: Runtime, alice: Identity, database_url: str) -> Iterator[Daemon]:
    """A single-user daemon run by alice, on either database."""
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, database_url).start()
    yield running
    running.stop()


@pytest.fixture
def project(runtime: Runtime, alice: Identity) -> Iterator[object]:
    """An empty directory owned by alice, to become a workspace."""
    yield runtime.make_dir(alice, "project")


@pytest.fixture
def sqlite_daemon(runtime: Runtime, alice: Identity) -> Iterator[Daemon]:
    """The same daemon on SQLite only, for behaviour that does not depend on the database."""
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}").start()
    yield running
    running.stop()

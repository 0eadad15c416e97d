"""Fixtures for the audit tests: a fresh migrated database per test (tampering is
destructive), on SQLite and PostgreSQL, and a way to record events.

Migrating takes most of a second, so each backend is migrated once per session
into a template that every test copies (a file copy; ``CREATE DATABASE ...
TEMPLATE`` on PostgreSQL).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from tests.audit.tamper import Attacker, rearm
from tests.support.databases import database
from workspace.audit import Action, record
from workspace.audit.tags import SECURITY_RELEVANT
from workspace.db import Database, migrate

ACTORS = ("alice", "bob", "zoë")
ROUTINE = [action for action in Action if action not in SECURITY_RELEVANT]
"""Actions checkpointed by count and time only (a security-relevant one is at once)."""
NO_TIMER = 3600.0
"""A checkpoint interval no test lasts: the count alone decides."""
Copier = Callable[[Path], AbstractContextManager[str]]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Copier:
    template = tmp_path_factory.mktemp("template") / "workspace.db"
    migrate(f"sqlite:///{template}")

    @contextmanager
    def copy(directory: Path) -> Iterator[str]:
        shutil.copyfile(template, directory / "workspace.db")
        yield f"sqlite:///{directory / 'workspace.db'}"

    return copy


@pytest.fixture(scope="session")
def postgresql_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copier]:
    """One migrated database for the session, emptied and re-armed (migration 0002 run
    again) for each test: a DROP DATABASE per test would cost about a second each."""
    with database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        migrate(url)

        @contextmanager
        def copy(directory: Path) -> Iterator[str]:
            rearm(url)
            yield url

        yield copy


@contextmanager
def _opened(template: Copier, directory: Path) -> Iterator[Database]:
    with template(directory) as url:
        opened = Database(url)
        try:
            yield opened
        finally:
            opened.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with _opened(request.getfixturevalue(f"{request.param}_template"), tmp_path) as opened:
        yield opened


@pytest.fixture
def sqlite_db(sqlite_template: Copier, tmp_path: Path) -> Iterator[Database]:
    """For the few checks that exist on SQLite only (not parametrized, so nothing is skipped)."""
    with _opened(sqlite_template, tmp_path) as opened:
        yield opened


@pytest.fixture
def postgresql_db(postgresql_template: Copier, tmp_path: Path) -> Iterator[Database]:
    """For the few checks that exist on PostgreSQL only."""
    with _opened(postgresql_template, tmp_path) as opened:
        yield opened


@pytest.fixture
def attacker(db: Database) -> Iterator[Attacker]:
    found = Attacker(db.url)
    yield found
    found.close()


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "audit"


def record_events(db: Database, count: int) -> None:
    """``count`` routine events, one transaction each, with varied (and non-ASCII) fields."""
    for n in range(count):
        with db.write() as session:
            record(session, actor=ACTORS[n % 3], action=ROUTINE[n % len(ROUTINE)],
                   dataset=f"vision/set{n % 2}" if n % 4 else None,
                   version=n if n % 2 else None, workspace=f"/home/wö/project{n % 2}",
                   path=f"data/{n % 3}" if n % 5 else None, detail={"n": n, "note": "ü\"\\"})

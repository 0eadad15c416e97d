"""Fixtures: a migrated database (a copy of one SQLite migration, or fresh PostgreSQL),
an Authorizer over it with the default policy loaded, and a private policy directory."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.databases import database
from workspace.db import Database, migrate
from workspace.policy import Authorizer, default_policy_dir

ADMIN = "root-admin"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated by Alembic, copied for each test (migrating takes ~1 s)."""
    path = tmp_path_factory.mktemp("template") / "workspace.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped ``policies/`` that tests may edit."""
    target = tmp_path / "policies"
    shutil.copytree(default_policy_dir(), target)
    return target


@pytest.fixture
def db(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "workspace.db"
    shutil.copyfile(migrated_sqlite, path)
    opened = Database(f"sqlite:///{path}")
    yield opened
    opened.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database of each kind, migrated from nothing by ``workspace.db.migrate``."""
    with database(request.param, tmp_path) as url:
        migrate(url)
        yield url


def make_authorizer(db: Database, policy_dir: Path, *, poll_interval: float = 1.0) -> Authorizer:
    """An Authorizer with the default policy loaded and ADMIN holding admin on '*'."""
    auth = Authorizer(db, policy_dir, poll_interval=poll_interval)
    with db.write() as session:
        if auth.load_defaults_if_empty(session):
            auth.grant_role(session, ADMIN, "admin", "*")
    return auth


@pytest.fixture
def auth(db: Database, policy_dir: Path) -> Authorizer:
    return make_authorizer(db, policy_dir)


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll until ``predicate()`` holds; fail after ``timeout`` (never asserts a duration)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)

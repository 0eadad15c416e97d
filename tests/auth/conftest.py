"""Fixtures for credential tests: migrated databases (SQLite, PostgreSQL), cheap hashing, users.

One database per backend per test module keeps the suite fast; tests stay
independent by giving every user (and so every throttled name) a fresh name.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tests.support.databases import database
from workspace.auth.passwords import Argon2Params, PasswordHasher
from workspace.auth.tokens import JwtKeys
from workspace.db import Database, migrate
from workspace.db.queries import users

CHEAP = Argon2Params(memory_kib=256, time_cost=1, parallelism=1)
"""Test-only cost: the default (and its OWASP floor) is checked in test_passwords."""

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

_serial = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
       ) -> Iterator[Database]:
    with database(request.param, tmp_path_factory.mktemp("db")) as url:
        migrate(url)
        opened = Database(url)
        yield opened
        opened.dispose()


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher(CHEAP)


@pytest.fixture(scope="module")
def keys() -> JwtKeys:
    return JwtKeys(secrets.token_bytes(32))


UserMaker = Callable[..., tuple[int, str]]


@pytest.fixture
def make_user(db: Database) -> UserMaker:
    """Create a user with a never-used name; returns (id, name)."""

    def make(*, robot: bool = False, disabled: bool = False) -> tuple[int, str]:
        name = f"user{next(_serial)}-{secrets.token_hex(3)}"
        with db.write() as session:
            user = users.create(session, name=name, uid=None)
            user.is_robot, user.disabled = robot, disabled
            session.flush()
            return user.id, name

    return make

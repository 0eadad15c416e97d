"""Fresh databases for tests: a SQLite file, or a new PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

PG_ADMIN = os.environ.get("WORKSPACE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'workspace.db'}"
        return
    with _postgres_database() as url:
        yield url


@contextmanager
def engine_on(url: str) -> Iterator[Engine]:
    """A plain SQLAlchemy engine on ``url`` (no pragmas, no daemon), disposed after."""
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def migrated(kind: str, directory: Path) -> Iterator[Engine]:
    """A fresh database of ``kind`` brought to the newest schema, and an engine on it."""
    from workspace.db import migrate

    with database(kind, directory) as url:
        migrate(url)
        with engine_on(url) as engine:
            yield engine


@contextmanager
def _postgres_database() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN}: {exc}")
    name = f"ws_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

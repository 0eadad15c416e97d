"""Migrations 0003 and 0005 create exactly the credential tables the models describe, keep
what they hold, and undo them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from tests.auth.conftest import T0
from tests.support.databases import database
from workspace.db import Database
from workspace.db.base import Base
from workspace.db.engine import migrations_dir
from workspace.db.models import User  # noqa: F401  (registers every table in Base)

CREDENTIAL_TABLES = {"passwords", "api_tokens", "revoked_jwts", "login_throttle"}
TABLES_0003 = {"passwords", "api_tokens", "revoked_jwts", "login_failures"}


def _mentions_ours(diff: object) -> bool:
    return any(name in repr(diff) for name in CREDENTIAL_TABLES)


def test_the_migrated_tables_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if _mentions_ours(diff)] == []


def _config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_0005_keeps_users_and_throttle_state_and_drops_is_admin(kind: str,
                                                                tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        config = _config(url)
        command.upgrade(config, "0004")
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO users (id, name, uid, is_admin, is_robot, disabled, created_at)"
                    " VALUES (1, 'alice', 1000, true, false, false, :t)"), {"t": T0})
                conn.execute(text(
                    "INSERT INTO datasets (id, name, latest, kind, created_at, created_by) "
                    "VALUES (1, 'vision/cats', 0, 'dir', :t, 1)"), {"t": T0})
                conn.execute(text(
                    "INSERT INTO login_failures (name, failures, last_failure_at, locked) "
                    "VALUES ('alice', 100, :t, true), ('ghost', 3, :t, false)"), {"t": T0})
            command.upgrade(config, "0005")
            assert "is_admin" not in {c["name"] for c in inspect(engine).get_columns("users")}
            with engine.connect() as conn:
                assert conn.execute(text("SELECT u.name FROM datasets d JOIN users u "
                                         "ON u.id = d.created_by")).scalar_one() == "alice"
                rows = conn.execute(text("SELECT name, client, failures, locked FROM "
                                         "login_throttle ORDER BY name")).all()
            assert [tuple(r) for r in rows] == [("alice", "*", 100, True), ("ghost", "*", 3,
                                                                             False)]
            command.downgrade(config, "0004")
            with engine.connect() as conn:
                back = conn.execute(text("SELECT name, failures, locked = true FROM login_failures "
                                         "ORDER BY name")).all()
                assert [tuple(r) for r in back] == [("alice", 100, True), ("ghost", 3, False)]
                assert not conn.execute(text("SELECT is_admin FROM users")).scalar_one()
        finally:
            engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_downgrading_0003_removes_the_tables(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        config = _config(url)
        command.upgrade(config, "0003")
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= TABLES_0003
            command.downgrade(config, "0002")
            assert not TABLES_0003 & set(inspect(engine).get_table_names())
        finally:
            engine.dispose()

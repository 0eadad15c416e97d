"""Migration 0003 creates exactly the credential tables the models describe, and undoes them."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tests.support.databases import database
from workspace.db import Database
from workspace.db.base import Base
from workspace.db.engine import migrations_dir
from workspace.db.models import User  # noqa: F401  (registers every table in Base)

CREDENTIAL_TABLES = {"passwords", "api_tokens", "revoked_jwts", "login_failures"}


def _mentions_ours(diff: object) -> bool:
    return any(name in repr(diff) for name in CREDENTIAL_TABLES)


def test_the_migrated_tables_match_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if _mentions_ours(diff)] == []


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_downgrading_0003_removes_the_tables(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        config = Config()
        config.set_main_option("script_location", str(migrations_dir()))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "0003")
        engine = create_engine(url)
        try:
            assert set(inspect(engine).get_table_names()) >= CREDENTIAL_TABLES
            command.downgrade(config, "0002")
            assert not CREDENTIAL_TABLES & set(inspect(engine).get_table_names())
        finally:
            engine.dispose()

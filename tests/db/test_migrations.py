"""Alembic's migrations build exactly the schema the models describe, on both databases.

A model change without its migration (or the reverse) would otherwise show
up only on a user's machine, as a missing column or a dropped index.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.support.databases import migrated
from workspace.db.models import Base


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migrations_match_the_models(kind: str, tmp_path: Path) -> None:
    with migrated(kind, tmp_path) as engine, engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []

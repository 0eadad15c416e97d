"""Indexes the hot reads depend on exist after ``alembic upgrade head``, and are used.

A dropped or reshaped index does not fail a query, it makes it slow: file blame of
100,000 files went from one read of an index to a lookup per row and a sort.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.support.databases import migrated
from workspace.db.queries.datasets import blame_statement

COVERING = "ix_entries_by_path_covering"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_entries_have_the_blame_covering_index(kind: str, tmp_path: Path) -> None:
    with migrated(kind, tmp_path) as engine:
        found = inspect(engine).get_indexes("entries")
    indexes = {index["name"]: index["column_names"] for index in found}
    assert indexes[COVERING] == ["dataset_id", "path", "added_in", "removed_in", "oid", "size"]


@pytest.mark.parametrize("oids", [True, False])
@pytest.mark.parametrize("prefix", [None, "labels/"])
def test_sqlite_blame_reads_only_the_covering_index(tmp_path: Path, prefix: str | None,
                                                    oids: bool) -> None:
    """No table lookups and no sort step: the plan is one covering-index search."""
    with migrated("sqlite", tmp_path) as engine, engine.connect() as connection:
        compiled = blame_statement(1, 7, prefix, oids=oids).compile(
            dialect=connection.dialect, compile_kwargs={"literal_binds": True})
        plan = [row[-1] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))]
    assert plan == [f"SEARCH entries USING COVERING INDEX {COVERING} (dataset_id=?)"]

"""`ws audit` filters, server side: user, dataset, action, path prefix, time range."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from workspace.audit import Action, record
from workspace.db import Database
from workspace.db.queries import audit as queries

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def trail(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """Six events one day apart (T0, T0+1d, ...), on a clock we set."""
    days = iter(range(100))
    monkeypatch.setattr(sys.modules["workspace.audit.record"], "utcnow",
                        lambda: T0 + timedelta(days=next(days)))
    rows = [("alice", Action.DATASET_VERSION_COMMIT, "vision/cats", "data"),
            ("bob", Action.DATASET_VERSION_COMMIT, "vision/cats", "data/labels.csv"),
            ("alice", Action.DATASET_TAG_CREATE, "vision/dogs", "Data"),
            ("bob", Action.WORKSPACE_PATH_CHECKOUT, "vision/dogs", "da%a"),
            ("alice", Action.WORKSPACE_PATH_CHECKOUT, "vision/cats", "data_x"),
            ("carol", Action.DATASET_NAME_CREATE, None, None)]
    for actor, action, dataset, path in rows:
        with db.write() as session:
            record(session, actor=actor, action=action, dataset=dataset, path=path)
    return db


def _ids(db: Database, **filters: object) -> list[int]:
    with db.read() as session:
        found = queries.search(session, queries.Filters(**filters))  # type: ignore[arg-type]
    return [event.id for event in found]


def test_no_filter_is_everything_newest_first(trail: Database) -> None:
    assert _ids(trail) == [6, 5, 4, 3, 2, 1]
    with trail.read() as session:
        assert [e.id for e in queries.search(session, queries.Filters(), limit=2)] == [6, 5]


FILTER_CASES: list[tuple[dict[str, object], list[int]]] = [
    ({"actor": "alice"}, [5, 3, 1]),
    ({"dataset": "vision/dogs"}, [4, 3]),
    ({"action": "dataset:version:commit"}, [2, 1]),
    ({"actor": "bob", "dataset": "vision/cats"}, [2]),
    ({"path_prefix": "data"}, [5, 2, 1]),           # case-sensitive, `Data` is not in
    ({"path_prefix": "data/"}, [2]),
    ({"path_prefix": "da%"}, [4]),                  # % and _ are plain characters
    ({"path_prefix": "data_"}, [5]),
    ({"since": T0 + timedelta(days=3)}, [6, 5, 4]),
    ({"until": T0 + timedelta(days=2)}, [2, 1]),    # until is exclusive
    ({"actor": "alice", "since": T0 + timedelta(days=1, hours=1),
      "until": T0 + timedelta(days=4, hours=1)}, [5, 3]),
    ({"actor": "nobody"}, []),
]


def test_filters(trail: Database) -> None:
    wrong = [(filters, _ids(trail, **filters), expected) for filters, expected in FILTER_CASES
             if _ids(trail, **filters) != expected]
    assert wrong == [], "(filters, got, expected)"


def test_user_and_since_is_one_index_range_read_without_a_sort(sqlite_db: Database) -> None:
    """The `ws audit --user U --since 1d` plan on SQLite; PostgreSQL's depends on table
    statistics, so bench/bench_audit.py shows it on a million events instead."""
    db = sqlite_db
    for filters, index in ((queries.Filters(actor="bob", since=T0), "ix_audit_events_actor_at_id"),
                           (queries.Filters(dataset="a/b", since=T0),
                            "ix_audit_events_dataset_at_id")):
        stmt = queries.search_statement(filters, limit=100)
        sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
        with db.engine.connect() as conn:
            plan = " | ".join(str(row[-1]) for row in conn.execute(
                text("EXPLAIN QUERY PLAN " + sql)))
        assert f"USING INDEX {index}" in plan, plan
        assert "TEMP B-TREE" not in plan, plan

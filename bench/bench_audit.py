"""Audit log at scale: `ws audit verify` over 1,000,000 events, and a filtered query.

Run by hand::

    python bench/bench_audit.py                       # SQLite, 1,000,000 events
    python bench/bench_audit.py --postgres postgresql+psycopg://postgres@127.0.0.1/postgres
    python bench/bench_audit.py --events 100000       # quick

It migrates a fresh database (``alembic upgrade head``, so the triggers and
indexes are the real ones), bulk-inserts a correctly chained log (hashes made
by ``workspace.audit.record.chain_hash``, Core ``executemany`` in batches),
then times, server-side (the functions the daemon's routes call):

- ``verify`` over the whole chain (target < 10 s), checked against a checkpoint;
- ``ws audit --user U --since 1d`` (``queries.search``; target < 100 ms), with its plan.

The log spans 365 days for 50 users (~55 events per user per day).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workspace.audit.checkpoint import Checkpoint
from workspace.audit.record import GENESIS, Fields, iso, link_hash
from workspace.audit.tags import Action
from workspace.audit.verify import verify
from workspace.db import Database, migrate
from workspace.db.models import AuditEvent
from workspace.db.queries import audit as queries

USERS = [f"user{n:02d}" for n in range(50)]
SPAN = timedelta(days=365)
INSERT_BATCH = 20_000
VERIFY_TARGET_S = 10.0
QUERY_TARGET_MS = 100.0


def main() -> None:
    args = _parse()
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    runs = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    for kind, admin_url in runs:
        with _fresh_database(kind, admin_url) as url:
            _bench(kind, url, args.events)


def _bench(kind: str, url: str, events: int) -> None:
    print(f"== {kind}: {events:,} events", flush=True)
    migrate(url)
    db = Database(url)
    started = time.perf_counter()
    head = _generate(db, events)
    print(f"generated and inserted in {time.perf_counter() - started:.1f} s")
    if kind == "sqlite":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE audit_events")
    _time_verify(db, head, events)
    _time_query(db, kind)
    db.dispose()


def _generate(db: Database, events: int) -> Checkpoint:
    """Insert ``events`` chained events, oldest first; returns the head as a checkpoint."""
    rng = random.Random(4)
    start = datetime.now(UTC) - SPAN
    step = SPAN / events
    prev, rows = GENESIS, []
    actions = list(Action)
    with db.engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # random hashes into two unique indexes: cache them
            conn.exec_driver_sql("PRAGMA cache_size = -1000000")
        for n in range(events):
            row = _event(rng, start + step * n, actions)
            row["prev_hash"], row["hash"] = prev, link_hash(prev, _fields(row))
            prev = row["hash"]
            rows.append(row)
            if len(rows) == INSERT_BATCH:
                conn.execute(insert(AuditEvent), rows)
                rows = []
                print(f"\r  {n + 1:,} events", end="", file=sys.stderr, flush=True)
        if rows:
            conn.execute(insert(AuditEvent), rows)
    print(file=sys.stderr)
    return Checkpoint(events, prev, "bench")


def _event(rng: random.Random, at: datetime, actions: list[Action]) -> dict[str, Any]:
    dataset = f"team{rng.randrange(20)}/set{rng.randrange(50)}"
    return {
        "at": at, "actor": rng.choice(USERS), "action": str(rng.choice(actions)),
        "dataset": dataset, "version": rng.randrange(1, 500),
        "workspace": f"/home/{rng.choice(USERS)}/project", "path": "data",
        "detail": '{"linked":12,"removed":0}',
    }


def _fields(row: dict[str, Any]) -> Fields:
    return (row["action"], row["actor"], iso(row["at"]), row["dataset"], row["detail"],
            row["path"], row["version"], row["workspace"])


def _time_verify(db: Database, head: Checkpoint, events: int) -> None:
    cpu = time.process_time()
    report = verify(db, [head])
    cpu = time.process_time() - cpu
    assert report.problem is None and report.events == events, report.to_dict()
    verdict = "OK" if report.seconds < VERIFY_TARGET_S else "MISSED"
    print(f"verify: {report.seconds:.2f} s wall ({cpu:.2f} s CPU in this process) for "
          f"{report.events:,} events ({report.seconds / events * 1e6:.2f} µs/event), "
          f"{report.checked_checkpoints} checkpoint checked; target < {VERIFY_TARGET_S:.0f} s: "
          f"{verdict} ({VERIFY_TARGET_S / report.seconds:.1f}x under)")


def _time_query(db: Database, kind: str) -> None:
    filters = queries.Filters(actor=USERS[7], since=datetime.now(UTC) - timedelta(days=1))
    timings, found = [], 0
    for _ in range(7):
        started = time.perf_counter()
        with db.read() as session:
            found = len(queries.search(session, filters, limit=100))
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    verdict = "OK" if median < QUERY_TARGET_MS else "MISSED"
    print(f"audit --user {USERS[7]} --since 1d: {found} events, median {median:.2f} ms "
          f"(first {timings[0]:.2f} ms); target < {QUERY_TARGET_MS:.0f} ms: {verdict}")
    for line in _plan(db, kind, filters):
        print(f"  plan: {line}")


def _plan(db: Database, kind: str, filters: queries.Filters) -> list[str]:
    stmt = queries.search_statement(filters, limit=100)
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    explain = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN "
    with db.engine.connect() as conn:
        rows = conn.execute(text(explain + sql)).all()
    return [str(row[-1]) for row in rows]


@contextmanager
def _fresh_database(kind: str, admin_url: str | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-audit-") as directory:
            yield f"sqlite:///{directory}/workspace.db"
        return
    assert admin_url is not None
    name = f"bench_audit_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="ADMIN_URL", default=None,
                        help="also run on PostgreSQL (a database is created and dropped)")
    return parser.parse_args()


if __name__ == "__main__":
    main()

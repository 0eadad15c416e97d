"""Many rows into one table with one driver ``executemany``: the hot path of big versions.

SQLAlchemy's Core ``insert(...)`` with a list of rows compiles once but still
builds and processes every row's parameters in Python, about 10 us a row
(measured with ``bench/bench_perfile.py``: a third of a 10,000-file checkout's
server-side time). A version or a stat cache of 10,000 files is 10,000 rows,
so those inserts go straight to the driver's ``executemany`` instead (sqlite3;
psycopg pipelines it). Only for columns whose values need no type processing
(integers, strings, booleans, NULL), except the ``same`` values shared by
every row, which go through their column's type once (a ``UTCDateTime``).
The hottest callers pass tuples (:func:`insert_rows`): positional parameters,
no dict per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from workspace.db.base import Base


def insert_many(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], *,
                same: Mapping[str, Any] | None = None, skip_existing: bool = False) -> None:
    """Insert ``rows`` (dicts with the same keys, plain values) into ``model``'s table.

    ``same``: values every row shares (a timestamp); these go through their
    column's type (a ``UTCDateTime`` too), once for all rows. ``skip_existing``:
    a row whose key is taken is left out (``ON CONFLICT DO NOTHING``, the same
    words on SQLite and PostgreSQL), instead of looking the keys up first.
    """
    if not rows:
        return
    columns = list(rows[0])
    values = itemgetter(*columns) if len(columns) > 1 else (lambda row: (row[columns[0]],))
    insert_rows(session, model, columns, [values(row) for row in rows], same=same,
                skip_existing=skip_existing)


def insert_rows(session: Session, model: type[Base], columns: Sequence[str],
                rows: Sequence[tuple[Any, ...]], *, same: Mapping[str, Any] | None = None,
                skip_existing: bool = False) -> None:
    """:func:`insert_many` for rows given as tuples of ``columns``' values: positional
    parameters, no dict per row (10,000 rows into SQLite: 11-19 ms against 18-29 ms)."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    connection = session.connection()
    shared = tuple(_bound(table, name, value, connection.dialect)
                   for name, value in (same or {}).items())
    named = [*columns, *(same or {})]
    unknown = [c for c in named if c not in table.c]
    if unknown:  # names are interpolated below: only the table's own columns may appear
        raise ValueError(f"no such columns in {table.name}: {unknown}")
    mark = "?" if connection.dialect.name == "sqlite" else "%s"
    sql = (f"INSERT INTO {table.name} ({', '.join(named)}) "
           f"VALUES ({', '.join(mark for _ in named)})"
           f"{' ON CONFLICT DO NOTHING' if skip_existing else ''}")
    params = [row + shared for row in rows] if shared else list(rows)
    connection.exec_driver_sql(sql, params)


def _bound(table: Table, name: str, value: Any, dialect: Dialect) -> Any:
    if name not in table.c:
        raise ValueError(f"no such column in {table.name}: {name}")
    process = table.c[name].type.bind_processor(dialect)
    return value if process is None else process(value)


def update_many(session: Session, model: type[Base], rows: Sequence[Mapping[str, Any]], *,
                where: Sequence[str], values: Sequence[str]) -> None:
    """``UPDATE`` one row per item of ``rows`` (found by the ``where`` columns, set to its
    ``values`` columns) with one driver ``executemany``; plain values only."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    unknown = [c for c in (*where, *values) if c not in table.c]
    if unknown:  # names are interpolated below: only the table's own columns may appear
        raise ValueError(f"no such columns in {table.name}: {unknown}")
    connection = session.connection()
    mark = ":{}" if connection.dialect.name == "sqlite" else "%({})s"
    sql = (f"UPDATE {table.name} SET {', '.join(f'{c} = {mark.format(c)}' for c in values)} "
           f"WHERE {' AND '.join(f'{c} = {mark.format(c)}' for c in where)}")
    wanted = (*where, *values)
    connection.exec_driver_sql(sql, [{c: row[c] for c in wanted} for row in rows])

"""The engine, transactions, and migrations at start-up.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``:
readers never wait for the writer, and a committed version survives power
loss. Write transactions begin ``IMMEDIATE`` so two writers serialize at
BEGIN instead of failing at COMMIT; that also keeps the audit hash chain
linear. PostgreSQL gets the same guarantee from an advisory lock taken in
``audit`` when the chain is extended.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from workspace.errors import WorkspaceError

_SOURCE_TREE_MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


def migrations_dir() -> Path:
    """Installed as ``workspace.migrations``; in a bare source tree, ``../migrations``."""
    try:
        from importlib.resources import files

        found = Path(str(files("workspace.migrations")))
        if (found / "env.py").is_file():
            return found
    except ModuleNotFoundError:
        pass
    return _SOURCE_TREE_MIGRATIONS


class Database:
    """Owns the engine; hands out read and write sessions. Services never commit."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.engine = _make_engine(url)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(bind=writer, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def migrate(url: str) -> None:
    """Bring the database to the newest schema (``alembic upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    location = migrations_dir()
    if not (location / "env.py").is_file():
        raise WorkspaceError(
            f"the database migrations are missing (looked in {location})",
            hint="reinstall workspace (`pip install .` from its source tree)",
        )
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")

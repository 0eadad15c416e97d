"""The engine, transactions, and migrations at start-up.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL``:
readers never wait for the writer, and a committed version survives power
loss. Write transactions begin ``IMMEDIATE`` so two writers serialize at
BEGIN instead of failing at COMMIT; that also keeps the audit hash chain
linear. PostgreSQL write transactions get the same guarantee from a
transaction-scoped advisory lock taken first thing (``WRITER_LOCK_KEY``,
shared by every daemon on one database): writers run one at a time on both
databases. Without it two PostgreSQL writers could both find an object row
missing and both insert it (a unique violation), or one could hold the audit
chain's lock while waiting for a row the other inserted (a deadlock). Write
transactions are short (file work happens outside them), so this costs little.
The daemon's SQLite checkpoints its WAL in a thread after writes rather than in
the commit that fills it (``walcheckpoint.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from workspace.db.walcheckpoint import WalCheckpointer
from workspace.diskspace import disk_full
from workspace.errors import DiskFull, WorkspaceError

SQLITE_FULL = 13
PG_DISK_FULL = "53100"
WRITER_LOCK_KEY = 0x77730001  # any constant shared by every daemon on one database
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

    def __init__(self, url: str, *, background_checkpoints: bool = False) -> None:
        """``background_checkpoints`` (the daemon's): on SQLite, checkpoint the WAL in a
        thread after writes instead of inside the commit that fills it
        (``walcheckpoint.py``)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        background = background_checkpoints and self.is_sqlite
        self.engine = _make_engine(url, autocheckpoint=not background)
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._write = sessionmaker(bind=writer, expire_on_commit=False)
        self.checkpointer = WalCheckpointer(self.engine) if background else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._space_errors(), self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._space_errors(), self._write() as session, session.begin():
            if not self.is_sqlite:
                take_writer_lock(session)
            yield session
        if self.checkpointer is not None:
            self.checkpointer.wrote()

    @contextmanager
    def _space_errors(self) -> Iterator[None]:
        """A full disk under the database is :class:`DiskFull`; the transaction is rolled back."""
        try:
            yield
        except OperationalError as exc:
            if not _is_full(exc.orig):
                raise
            raise self._disk_full() from None

    def _disk_full(self) -> DiskFull:
        path = self.engine.url.database if self.is_sqlite else None
        if path and path != ":memory:":
            return disk_full(path, "the database")
        return DiskFull(
            "the database server has no space left (PostgreSQL: disk full)",
            hint="free space on the database server's disk, then run the command again; "
            "the change was rolled back and your files were left as they were",
            details={"database": self.engine.url.get_backend_name()})

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()


def take_writer_lock(session: Session) -> None:
    """PostgreSQL: wait until no other write transaction runs (released at commit/rollback)."""
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK_KEY})


def _is_full(orig: BaseException | None) -> bool:
    """SQLite's SQLITE_FULL ("database or disk is full"), PostgreSQL's disk_full (53100)."""
    if getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    return getattr(orig, "sqlstate", None) == PG_DISK_FULL


def _make_engine(url: str, *, autocheckpoint: bool = True) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=8, max_overflow=8)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    pragmas = _SQLITE_PRAGMAS if autocheckpoint else (*_SQLITE_PRAGMAS, "wal_autocheckpoint=0")
    event.listen(engine, "connect",
                 lambda dbapi_connection, _record: _sqlite_on_connect(dbapi_connection, pragmas))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


_SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON",
                   "busy_timeout=30000")


def _sqlite_on_connect(dbapi_connection: Any, pragmas: tuple[str, ...]) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_on_begin)
    cursor = dbapi_connection.cursor()
    for pragma in pragmas:
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

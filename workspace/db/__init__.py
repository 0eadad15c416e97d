"""Persistence: SQLAlchemy 2 models, the engine, and every query (in ``queries/``).

Schema changes are Alembic migrations in the top-level ``migrations/``
directory, applied automatically when the daemon starts (``migrate``).
"""

from workspace.db.engine import Database, migrate

__all__ = ["Database", "migrate"]

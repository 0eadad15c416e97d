"""Path conditions the same on both databases."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func


def starts_with(column: Any, prefix: str) -> Any:
    """``column`` begins with ``prefix``, with ASCII case counting.

    SQLite's LIKE ignores ASCII case, so ``startswith`` alone gave ``Labels/``
    the files of ``labels/`` there (not on PostgreSQL). The LIKE stays, as the
    cheap first filter; ``substr`` (characters on both databases) settles it.
    """
    return and_(column.startswith(prefix, autoescape=True),
                func.substr(column, 1, len(prefix)) == prefix)

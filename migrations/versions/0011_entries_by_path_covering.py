"""Entries: a covering index in path order, for file blame

``ws blame`` of 100,000 files reads every live entry of a version with its
path, oid, size and ``added_in``. Through ``(dataset_id, added_in)`` that was
a table lookup per entry and a sort of the rows by path afterwards; this
index holds every column the blame reads, in path order, so the rows come
from the index alone and already sorted.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ["dataset_id", "path", "added_in", "removed_in", "oid", "size"]


def upgrade() -> None:
    op.create_index("ix_entries_by_path_covering", "entries", _COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_entries_by_path_covering", table_name="entries")

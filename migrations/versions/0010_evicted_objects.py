"""Evicted objects: dropped from a store because the default remote holds them

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evicted_objects",
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("oid", sa.String(length=64), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("evicted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "oid", name=op.f("pk_evicted_objects")),
    )


def downgrade() -> None:
    op.drop_table("evicted_objects")

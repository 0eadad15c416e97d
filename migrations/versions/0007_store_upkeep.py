"""Store upkeep: object pins, pruned versions, damaged objects, scrub slices, quotas

Also an index on ``entries.oid``: gc, fsck and du look entries up by object.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "object_pins",
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("oid", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("holder", "oid", name=op.f("pk_object_pins")),
    )
    op.create_index(op.f("ix_object_pins_oid"), "object_pins", ["oid"])
    op.create_table(
        "pruned_versions",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pruned_by", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"],
                                name=op.f("fk_pruned_versions_dataset_id_datasets")),
        sa.ForeignKeyConstraint(["pruned_by"], ["users.id"],
                                name=op.f("fk_pruned_versions_pruned_by_users")),
        sa.PrimaryKeyConstraint("dataset_id", "number", name=op.f("pk_pruned_versions")),
    )
    op.create_table(
        "damaged_objects",
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("oid", sa.String(length=64), nullable=False),
        sa.Column("problem", sa.String(length=16), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarantined_as", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("store_id", "oid", name=op.f("pk_damaged_objects")),
    )
    op.create_table(
        "scrub_slices",
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("fanout", sa.String(length=2), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("objects", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("corrupt", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "fanout", name=op.f("pk_scrub_slices")),
    )
    op.create_table(
        "quotas",
        sa.Column("pattern", sa.String(length=200), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["set_by"], ["users.id"], name=op.f("fk_quotas_set_by_users")),
        sa.PrimaryKeyConstraint("pattern", name=op.f("pk_quotas")),
    )
    op.create_index("ix_entries_oid", "entries", ["oid"])


def downgrade() -> None:
    op.drop_index("ix_entries_oid", table_name="entries")
    op.drop_table("quotas")
    op.drop_table("scrub_slices")
    op.drop_table("damaged_objects")
    op.drop_table("pruned_versions")
    op.drop_index(op.f("ix_object_pins_oid"), table_name="object_pins")
    op.drop_table("object_pins")

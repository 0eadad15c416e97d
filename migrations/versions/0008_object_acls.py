"""Object ACLs: stores, holdings (principal x dataset), their objects, private copies

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "acl_stores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("evaluated_version", sa.BigInteger(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("converted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acl_stores")),
        sa.UniqueConstraint("token", name=op.f("uq_acl_stores_token")),
    )
    op.create_table(
        "acl_holdings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.SmallInteger(), nullable=False),
        sa.Column("ident", sa.BigInteger(), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.String(length=64), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["acl_stores.id"],
                                name=op.f("fk_acl_holdings_store_id_acl_stores"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acl_holdings")),
        sa.UniqueConstraint("store_id", "tag", "ident", "dataset",
                            name=op.f("uq_acl_holdings_store_id_tag_ident_dataset")),
    )
    op.create_index(op.f("ix_acl_holdings_store_id_dirty"), "acl_holdings",
                    ["store_id", "dirty"])
    op.create_table(
        "acl_objects",
        sa.Column("holding_id", sa.Integer(), nullable=False),
        sa.Column("oid", sa.String(length=64), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["holding_id"], ["acl_holdings.id"],
                                name=op.f("fk_acl_objects_holding_id_acl_holdings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("holding_id", "oid", name=op.f("pk_acl_objects")),
    )
    op.create_index(op.f("ix_acl_objects_oid"), "acl_objects", ["oid"])
    op.create_table(
        "acl_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holding_id", sa.Integer(), nullable=False),
        sa.Column("owner_uid", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=4096), nullable=False),
        sa.Column("path", sa.String(length=4096), nullable=False),
        sa.Column("executable", sa.Boolean(), nullable=False),
        sa.Column("dev", sa.BigInteger(), nullable=False),
        sa.Column("ino", sa.BigInteger(), nullable=False),
        sa.Column("released", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["holding_id"], ["acl_holdings.id"],
                                name=op.f("fk_acl_copies_holding_id_acl_holdings"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acl_copies")),
    )
    op.create_index(op.f("ix_acl_copies_holding_id"), "acl_copies", ["holding_id"])
    op.create_index(op.f("ix_acl_copies_root"), "acl_copies", ["root"])


def downgrade() -> None:
    op.drop_table("acl_copies")
    op.drop_table("acl_objects")
    op.drop_table("acl_holdings")
    op.drop_table("acl_stores")

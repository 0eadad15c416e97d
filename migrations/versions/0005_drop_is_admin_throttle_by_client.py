"""Drop users.is_admin; throttle logins per (name, client address) and per name

``users.is_admin`` was written at start-up and read by nothing (roles decide).
``login_failures`` (one row per name) becomes ``login_throttle`` (one row per
name and client address, plus the name's overall row with client ``*``);
each old row becomes the overall row of its name, so a locked name stays
locked and a count carries over.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_CLIENTS = "*"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
    op.create_table(
        "login_throttle",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", "client", name=op.f("pk_login_throttle")),
    )
    op.execute(
        sa.text("INSERT INTO login_throttle (name, client, failures, last_failure_at, locked) "
                "SELECT name, :all, failures, last_failure_at, locked FROM login_failures")
        .bindparams(all=ALL_CLIENTS)
    )
    op.drop_table("login_failures")


def downgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_login_failures")),
    )
    op.execute(
        sa.text("INSERT INTO login_failures (name, failures, last_failure_at, locked) "
                "SELECT name, failures, last_failure_at, locked FROM login_throttle "
                "WHERE client = :all").bindparams(all=ALL_CLIENTS)
    )
    op.drop_table("login_throttle")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))

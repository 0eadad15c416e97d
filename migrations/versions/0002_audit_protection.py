"""Audit log protection: triggers that refuse UPDATE, DELETE and TRUNCATE on audit_events

Also: a unique ``prev_hash`` (two events can never extend the same head, so
the chain cannot fork even if a writer forgets the chain lock), and indexes
on ``(actor, at, id)`` and ``(dataset, at, id)`` so ``ws audit --user U
--since 1d`` is one index range read, newest first, with no sort.

Careful in later migrations: on SQLite, a ``batch_alter_table`` on
audit_events rebuilds the table and silently drops these triggers; such a
migration must create them again (``create_triggers()`` below).

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUSED = "audit_events is append-only"

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{_REFUSED}: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{_REFUSED}: DELETE refused'); END""",
)

_POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION audit_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_REFUSED}: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$""",
    """CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()""",
    """CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()""",
)

_INDEXES = (
    ("ix_audit_events_actor_at_id", ["actor", "at", "id"], False),
    ("ix_audit_events_dataset_at_id", ["dataset", "at", "id"], False),
    ("uq_audit_events_prev_hash", ["prev_hash"], True),
)


def upgrade() -> None:
    for name, columns, unique in _INDEXES:
        op.create_index(name, "audit_events", columns, unique=unique)
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    for name, _, _ in reversed(_INDEXES):
        op.drop_index(name, table_name="audit_events")


def create_triggers() -> None:
    statements = _SQLITE_TRIGGERS if _is_sqlite() else _POSTGRES_TRIGGERS
    for statement in statements:
        op.execute(statement)


def drop_triggers() -> None:
    if _is_sqlite():
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"

"""Rules live in the database (SQLite and PostgreSQL, migrated by Alembic from nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from tests.policy.conftest import ADMIN, make_authorizer, wait_until
from workspace.db import Database, migrate
from workspace.db.engine import migrations_dir
from workspace.db.queries import policy as q
from workspace.policy import Authorizer


def test_rules_survive_a_restart_and_daemons_share_them(fresh_url: str, policy_dir: Path) -> None:
    first_db, second_db = Database(fresh_url), Database(fresh_url)
    try:
        first = make_authorizer(first_db, policy_dir, poll_interval=0.05)
        with first_db.write() as session:
            first.grant_role(session, "alice", "writer", "vision/*")
            first.grant_role(session, "bob", "reader", "vision/*")
            first.add_rule(session, "alice", "vision/private*", "*", "deny")
        second = Authorizer(second_db, policy_dir, poll_interval=0.05)  # a restart, or a peer
        assert [str(r) for r in second.list_rules()] == [str(r) for r in first.list_rules()]
        assert second.check("alice", [], "vision/cats", "write").allowed
        assert not second.check("alice", [], "vision/private-x", "read").allowed
        with second_db.write() as session:
            second.revoke_role(session, "alice", "writer", "vision/*")
        wait_until(lambda: not first.check("alice", [], "vision/cats", "write").allowed)
        assert first.check("bob", [], "vision/cats", "read").allowed
        assert first.check(ADMIN, [], "admin:users", "admin").allowed
    finally:
        first_db.dispose()
        second_db.dispose()


def test_the_database_holds_each_rule_once(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        row = ("g", "alice", "writer", "vision/*", "")
        with db.write() as session:
            q.insert_rules(session, [row], source="api")
        with pytest.raises(IntegrityError), db.write() as session:
            q.insert_rules(session, [row], source="api")
        with db.write() as session:
            assert q.delete_rule(session, ("g", "alice", "writer", "vision/", "")) == 0
            assert q.delete_rule(session, row) == 1
            assert q.count(session) == 0
    finally:
        db.dispose()


def test_migration_0004_downgrades_and_upgrades_again(fresh_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", fresh_url.replace("%", "%%"))
    command.downgrade(config, "0003")
    db = Database(fresh_url)
    try:
        assert not {"policy_rules", "policy_state"} & set(inspect(db.engine).get_table_names())
        migrate(fresh_url)
        with db.read() as session:
            assert q.state(session) == (0, None, None)
    finally:
        db.dispose()

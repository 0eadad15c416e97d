"""Cached decisions never outlive a change, in this process or another sharing the database."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.policy.conftest import make_authorizer, wait_until
from workspace.db import Database
from workspace.policy import Authorizer


def test_a_change_invalidates_cached_decisions(auth: Authorizer, db: Database) -> None:
    for _ in range(3):  # the second and third answers come from the cache
        assert not auth.check("alice", [], "vision/cats", "write").allowed
    with db.write() as session:
        auth.grant_role(session, "alice", "writer", "vision/*")
    assert auth.check("alice", [], "vision/cats", "write").allowed
    with db.write() as session:
        auth.add_rule(session, "alice", "vision/cats", "write", "deny")
    assert not auth.check("alice", [], "vision/cats", "write").allowed
    with db.write() as session:
        auth.remove_rule(session, "alice", "vision/cats", "write", "deny")
    assert auth.check("alice", [], "vision/cats", "write").allowed
    with db.write() as session:
        auth.revoke_role(session, "alice", "writer", "vision/*")
    assert not auth.check("alice", [], "vision/cats", "write").allowed


def test_a_change_to_a_group_reaches_its_members_cached_decisions(
    auth: Authorizer, db: Database
) -> None:
    assert not auth.check("alice", ["group:ml"], "vision/cats", "read").allowed
    with db.write() as session:
        auth.grant_role(session, "group:ml", "reader", "vision/*")
    assert auth.check("alice", ["group:ml"], "vision/cats", "read").allowed


def test_another_daemon_on_the_same_database_sees_the_change(
    db: Database, policy_dir: Path
) -> None:
    mine = make_authorizer(db, policy_dir)
    other = Authorizer(Database(db.url), policy_dir, poll_interval=0.05)
    assert not other.check("alice", [], "vision/cats", "read").allowed
    with db.write() as session:
        mine.grant_role(session, "alice", "reader", "vision/*")
    wait_until(lambda: other.check("alice", [], "vision/cats", "read").allowed)
    assert other.version == mine.version
    other.db.dispose()


def test_checks_from_many_threads_during_changes(auth: Authorizer, db: Database) -> None:
    """Thread pool callers never crash and end up seeing the final policy."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def checker(user: str) -> None:
        try:
            while not stop.is_set():
                for name in ("vision/cats", "vision/dogs", "text/a"):
                    auth.check(user, ["group:ml"], name, "write")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=checker, args=(f"user{i % 3}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for round_ in range(10):
        with db.write() as session:
            auth.grant_role(session, f"user{round_ % 3}", "writer", f"vision/r{round_}*")
    with db.write() as session:
        auth.grant_role(session, "group:ml", "writer", "vision/*")
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(
        auth.check(f"user{i}", ["group:ml"], "vision/cats", "write").allowed for i in range(3)
    )
    assert not auth.check("user0", [], "vision/cats", "write").allowed

"""What the default model decides: role inheritance, patterns, deny wins, groups."""

from __future__ import annotations

import pytest

from tests.policy.conftest import ADMIN
from workspace.db import Database
from workspace.policy import Authorizer


def grant(auth: Authorizer, db: Database, subject: str, role: str, pattern: str) -> None:
    with db.write() as session:
        auth.grant_role(session, subject, role, pattern)


def rule(
    auth: Authorizer, db: Database, subject: str, pattern: str, action: str, effect: str
) -> None:
    with db.write() as session:
        auth.add_rule(session, subject, pattern, action, effect)


def allowed(
    auth: Authorizer, subject: str, resource: str, action: str, groups: tuple[str, ...] = ()
) -> bool:
    return auth.check(subject, groups, resource, action).allowed


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("reader", {"read"}),
        ("writer", {"read", "write"}),
        ("maintainer", {"read", "write", "maintain"}),
        ("admin", {"read", "write", "maintain", "admin"}),
    ],
)
def test_each_role_has_everything_of_the_roles_below(
    auth: Authorizer, db: Database, role: str, expected: set[str]
) -> None:
    grant(auth, db, "alice", role, "vision/*")
    actions = {"read", "write", "maintain", "admin"}
    assert {a for a in actions if allowed(auth, "alice", "vision/cats", a)} == expected


def test_writer_on_a_pattern_may_write_there_but_not_administer(
    auth: Authorizer, db: Database
) -> None:
    grant(auth, db, "alice", "writer", "vision/*")
    decision = auth.check("alice", [], "vision/cats", "write")
    assert decision.allowed
    assert decision.rule == "p, writer, *, write, allow"
    assert decision.via == ("g, alice, writer, vision/*",)
    assert auth.check("alice", [], "vision/cats", "admin").allowed is False


def test_nothing_is_allowed_by_default(auth: Authorizer) -> None:
    for action in ("read", "write", "maintain", "admin"):
        decision = auth.check("bob", ["group:staff"], "vision/cats", action)
        assert (decision.allowed, decision.rule) == (False, None)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("vision/cats", True),
        ("vision/cats/2024", True),
        ("vision", False),
        ("visionary/x", False),
        ("text/cats", False),
    ],
)
def test_patterns_match_by_prefix(
    auth: Authorizer, db: Database, resource: str, expected: bool
) -> None:
    grant(auth, db, "alice", "reader", "vision/*")
    assert allowed(auth, "alice", resource, "read") is expected


def test_an_exact_name_matches_only_itself(auth: Authorizer, db: Database) -> None:
    grant(auth, db, "alice", "writer", "vision/cats")
    assert allowed(auth, "alice", "vision/cats", "write")
    assert not allowed(auth, "alice", "vision/cats2", "write")
    assert not allowed(auth, "alice", "vision/dogs", "read")


def test_star_covers_datasets_and_admin_resources(auth: Authorizer) -> None:
    for resource in ("vision/cats", "admin:users", "admin:policy", "admin:audit"):
        assert allowed(auth, ADMIN, resource, "admin")


def test_reader_everywhere_is_not_an_admin(auth: Authorizer, db: Database) -> None:
    grant(auth, db, "carol", "maintainer", "*")
    assert allowed(auth, "carol", "vision/cats", "maintain")
    for resource in ("admin:users", "admin:policy", "admin:audit"):
        assert not allowed(auth, "carol", resource, "admin")


def test_deny_wins_over_allow(auth: Authorizer, db: Database) -> None:
    grant(auth, db, "alice", "writer", "vision/*")
    rule(auth, db, "alice", "vision/secret*", "write", "deny")
    decision = auth.check("alice", [], "vision/secret-faces", "write")
    assert (decision.allowed, decision.rule) == (False, "p, alice, vision/secret*, write, deny")
    assert allowed(auth, "alice", "vision/secret-faces", "read")
    assert allowed(auth, "alice", "vision/cats", "write")


def test_a_deny_for_every_action_beats_admin(auth: Authorizer, db: Database) -> None:
    rule(auth, db, ADMIN, "hr/*", "*", "deny")
    assert not allowed(auth, ADMIN, "hr/salaries", "read")
    assert allowed(auth, ADMIN, "vision/cats", "admin")


def test_a_direct_allow_rule_grants_one_action(auth: Authorizer, db: Database) -> None:
    rule(auth, db, "dave", "vision/cats", "read", "allow")
    assert allowed(auth, "dave", "vision/cats", "read")
    assert not allowed(auth, "dave", "vision/cats", "write")


def test_group_subjects_grant_to_their_members(auth: Authorizer, db: Database) -> None:
    grant(auth, db, "group:ml-team", "reader", "*")
    decision = auth.check("alice", ["group:ml-team", "group:staff"], "vision/cats", "read")
    assert decision.allowed
    assert decision.via == (
        "alice is in Unix group group:ml-team",
        "g, group:ml-team, reader, *",
    )
    assert not allowed(auth, "alice", "vision/cats", "read")  # not in the group this time


def test_a_group_deny_beats_the_members_own_allow(auth: Authorizer, db: Database) -> None:
    grant(auth, db, "alice", "writer", "vision/*")
    rule(auth, db, "group:interns", "vision/*", "write", "deny")
    decision = auth.check("alice", ["group:interns"], "vision/cats", "write")
    assert (decision.allowed, decision.rule) == (False, "p, group:interns, vision/*, write, deny")
    assert allowed(auth, "alice", "vision/cats", "write")


def test_groups_in_any_order_share_one_decision(auth: Authorizer, db: Database) -> None:
    grant(auth, db, "group:b", "reader", "*")
    assert allowed(auth, "alice", "x/y", "read", ("group:a", "group:b"))
    assert allowed(auth, "alice", "x/y", "read", ("group:b", "group:a", "group:b"))

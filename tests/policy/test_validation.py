"""Values that could forge or split a Casbin rule never reach Casbin."""

from __future__ import annotations

import pytest

from workspace.db import Database
from workspace.errors import InvalidInput
from workspace.policy import Authorizer

BAD_VALUES = [
    "alice,admin",
    'alice"',
    "alice'",
    "alice`",
    "alice\nadmin",
    "alice\r",
    "alice\x00",
    "alice\x1b[31m",
    "alice\t",
    "alice bob",
    "\u00e9lodie",
    "a" * 201,
    "",
]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_subjects_roles_and_patterns_are_refused(
    auth: Authorizer, db: Database, value: str
) -> None:
    before = [str(r) for r in auth.list_rules()]
    attempts = [
        lambda s: auth.grant_role(s, value, "reader", "vision/*"),
        lambda s: auth.grant_role(s, "alice", value, "vision/*"),
        lambda s: auth.grant_role(s, "alice", "reader", value),
        lambda s: auth.add_rule(s, value, "vision/*", "read", "deny"),
        lambda s: auth.add_rule(s, "alice", value, "read", "deny"),
        lambda s: auth.revoke_role(s, value, "reader", "vision/*"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput), db.write() as session:
            attempt(session)
    assert [str(r) for r in auth.list_rules()] == before


@pytest.mark.parametrize("value", BAD_VALUES)
def test_bad_values_in_a_check_are_refused(auth: Authorizer, value: str) -> None:
    with pytest.raises(InvalidInput):
        auth.check(value, [], "vision/cats", "read")
    with pytest.raises(InvalidInput):
        auth.check("alice", [], value, "read")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda a, s: a.grant_role(s, "al*ce", "reader", "*"), "contains '\\*'"),
        (lambda a, s: a.grant_role(s, "alice", "reader", "vision/*/raw"), "before its end"),
        (lambda a, s: a.add_rule(s, "alice", "*", "delete", "deny"), "unknown action"),
        (lambda a, s: a.add_rule(s, "alice", "*", "read", "maybe"), "unknown effect"),
    ],
)
def test_shapes_are_checked_per_kind_of_value(
    auth: Authorizer, db: Database, call: object, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message), db.write() as session:
        call(auth, session)  # type: ignore[operator]


@pytest.mark.parametrize("group", ["group:domain users", "group:\u00e9quipe", "group:a,b"])
def test_a_group_no_rule_could_name_is_ignored(auth: Authorizer, db: Database, group: str) -> None:
    with db.write() as session:
        auth.grant_role(session, "group:ml", "reader", "*")
    assert auth.check("alice", [group, "group:ml"], "vision/cats", "read").allowed
    assert not auth.check("alice", [group], "vision/cats", "read").allowed


def test_a_check_names_one_resource_and_a_known_action(auth: Authorizer) -> None:
    with pytest.raises(InvalidInput):
        auth.check("alice", [], "vision/*", "read")
    with pytest.raises(InvalidInput):
        auth.check("alice", [], "vision/cats", "*")
    with pytest.raises(InvalidInput, match="unknown action"):
        auth.check("alice", [], "vision/cats", "delete")


def test_the_error_says_what_to_do(auth: Authorizer, db: Database) -> None:
    with pytest.raises(InvalidInput) as caught, db.write() as session:
        auth.grant_role(session, "alice,admin", "reader", "*")
    assert "','" in caught.value.message
    assert caught.value.hint and "no commas" in caught.value.hint

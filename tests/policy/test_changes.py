"""Grants, revokes and rules change exactly what they name, and refuse what must not happen."""

from __future__ import annotations

import pytest

from tests.policy.conftest import ADMIN
from workspace.db import Database
from workspace.errors import Conflict, InvalidInput, NotFound
from workspace.policy import Authorizer


def lines(auth: Authorizer) -> set[str]:
    return {str(rule) for rule in auth.list_rules()}


def test_revoke_removes_exactly_the_named_grant(auth: Authorizer, db: Database) -> None:
    grants = [
        ("alice", "writer", "vision/*"),
        ("alice", "reader", "text/*"),
        ("bob", "writer", "vision/*"),
    ]
    before = lines(auth)
    with db.write() as session:
        for grant in grants:
            assert auth.grant_role(session, *grant)
    with db.write() as session:
        auth.revoke_role(session, "alice", "writer", "vision/*")
    assert lines(auth) == before | {"g, alice, reader, text/*", "g, bob, writer, vision/*"}
    assert not auth.check("alice", [], "vision/cats", "write").allowed
    assert auth.check("alice", [], "text/a", "read").allowed
    assert auth.check("bob", [], "vision/cats", "write").allowed


def test_remove_rule_removes_exactly_the_named_rule(auth: Authorizer, db: Database) -> None:
    with db.write() as session:
        auth.add_rule(session, "alice", "vision/*", "write", "deny")
        auth.add_rule(session, "alice", "vision/*", "read", "deny")
        auth.add_rule(session, "alice", "vision/*", "write", "allow")
    with db.write() as session:
        auth.remove_rule(session, "alice", "vision/*", "write", "deny")
    mine = {str(r) for r in auth.list_rules() if r.subject == "alice"}
    assert mine == {"p, alice, vision/*, read, deny", "p, alice, vision/*, write, allow"}


def test_granting_twice_stores_one_rule(auth: Authorizer, db: Database) -> None:
    with db.write() as session:
        assert auth.grant_role(session, "alice", "writer", "vision/*") is True
        assert auth.grant_role(session, "alice", "writer", "vision/*") is False
    assert [str(r) for r in auth.roles_of("alice")] == ["g, alice, writer, vision/*"]


def test_revoking_what_was_never_granted_is_not_found(auth: Authorizer, db: Database) -> None:
    with pytest.raises(NotFound), db.write() as session:
        auth.revoke_role(session, "alice", "writer", "vision/*")


def test_file_rules_are_changed_in_the_file_not_through_the_api(
    auth: Authorizer, db: Database
) -> None:
    with pytest.raises(Conflict, match=r"policy\.csv"), db.write() as session:
        auth.remove_rule(session, "reader", "*", "read", "allow")
    assert "p, reader, *, read, allow" in lines(auth)


def test_removing_the_last_admin_is_refused(auth: Authorizer, db: Database) -> None:
    with db.read() as session:
        assert auth.admins(session) == [ADMIN]
    with pytest.raises(Conflict, match="last admin"), db.write() as session:
        auth.revoke_role(session, ADMIN, "admin", "*")
    assert auth.check(ADMIN, [], "admin:policy", "admin").allowed
    with db.write() as session:
        auth.grant_role(session, "erin", "admin", "*")
        auth.revoke_role(session, ADMIN, "admin", "*")
        assert auth.admins(session) == ["erin"]


def test_only_roles_from_the_policy_can_be_granted(auth: Authorizer, db: Database) -> None:
    with pytest.raises(NotFound, match="no role 'owner'"), db.write() as session:
        auth.grant_role(session, "alice", "owner", "*")
    with pytest.raises(InvalidInput, match="is a role"), db.write() as session:
        auth.grant_role(session, "reader", "admin", "*")


def test_a_failed_transaction_changes_nothing(auth: Authorizer, db: Database) -> None:
    version = auth.version
    with pytest.raises(RuntimeError), db.write() as session:
        auth.grant_role(session, "alice", "admin", "*")
        raise RuntimeError("the audit record failed")
    assert auth.version == version
    assert not auth.check("alice", [], "admin:users", "admin").allowed


def test_holds_follows_inheritance_and_pattern_coverage(auth: Authorizer, db: Database) -> None:
    with db.write() as session:
        auth.grant_role(session, "alice", "writer", "vision/*")
        auth.grant_role(session, "group:ml", "maintainer", "nlp/*")
    assert auth.holds(ADMIN, "writer", "vision/*")
    assert auth.holds("alice", "writer", "vision/*")
    assert auth.holds("alice", "reader", "vision/cats")
    assert auth.holds("alice", "writer", "vision/cats/*")
    assert not auth.holds("alice", "writer", "*")
    assert not auth.holds("alice", "maintainer", "vision/cats")
    assert not auth.holds("alice", "reader", "nlp/x")
    assert auth.holds("alice", "writer", "nlp/x", groups=["group:ml"])


def test_roles_of_lists_direct_grants_of_the_subject_and_its_groups(
    auth: Authorizer, db: Database
) -> None:
    with db.write() as session:
        auth.grant_role(session, "alice", "writer", "vision/*")
        auth.grant_role(session, "group:ml", "reader", "*")
        auth.grant_role(session, "bob", "reader", "*")
    assert {str(r) for r in auth.roles_of("alice", ["group:ml"])} == {
        "g, alice, writer, vision/*",
        "g, group:ml, reader, *",
    }


def test_version_moves_on_every_change_and_only_then(auth: Authorizer, db: Database) -> None:
    seen = [auth.version]
    with db.write() as session:
        auth.grant_role(session, "alice", "writer", "vision/*")
    seen.append(auth.version)
    with db.write() as session:
        auth.grant_role(session, "alice", "writer", "vision/*")  # already there
    seen.append(auth.version)
    with db.write() as session:
        auth.add_rule(session, "alice", "vision/x", "read", "deny")
    seen.append(auth.version)
    with db.write() as session:
        auth.revoke_role(session, "alice", "writer", "vision/*")
    seen.append(auth.version)
    assert seen[1] > seen[0] and seen[2] == seen[1] and seen[4] > seen[3] > seen[2]

"""An object's readers from its holdings: users, groups, and members a group must not let in."""

from __future__ import annotations

from workspace.acl.compute import readers_of
from workspace.acl.states import allow
from workspace.db.queries.acl import Claim
from workspace.posixacl import GROUP, USER
from workspace.store.acl import NOBODY, Readers

TEAM, OTHER_TEAM = 500, 501
MEMBERS = {(7, TEAM), (8, TEAM), (8, OTHER_TEAM)}


def member(uid: int, gid: int) -> bool:
    return (uid, gid) in MEMBERS


def test_allowed_holdings_name_their_principals_and_denied_ones_nothing() -> None:
    claims = [Claim("a", USER, 1, "allow"), Claim("a", USER, 2, "deny"),
              Claim("a", GROUP, TEAM, "allow"), Claim("b", USER, 2, "drop")]
    found = readers_of(["a", "b", "c"], claims, member)
    assert found == {"a": Readers(frozenset({1}), frozenset({TEAM})), "b": NOBODY, "c": NOBODY}


def test_a_masked_member_is_blocked_unless_something_else_lets_them_read() -> None:
    masked_team = Claim("a", GROUP, TEAM, allow({7, 8}))
    assert readers_of(["a"], [masked_team], member)["a"].blocked == {7, 8}
    # 8 is also in another reading group that does not block them; 7 has their own grant
    other = Claim("a", GROUP, OTHER_TEAM, allow())
    own = Claim("a", USER, 7, "allow")
    found = readers_of(["a"], [masked_team, other, own], member)["a"]
    assert found == Readers(frozenset({7}), frozenset({TEAM, OTHER_TEAM}), frozenset())
    # a denied group's mask means nothing: it gives no read to begin with
    denied = Claim("a", GROUP, TEAM, "deny")
    assert readers_of(["a"], [denied], member)["a"] == NOBODY

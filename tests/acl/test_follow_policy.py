"""Object ACLs follow the policy: grant on link, revoke and restore through the queue.

Real store, real database (SQLite and PostgreSQL), real policy engine, real
Unix users and groups; what is checked is the ACL the kernel will apply.
"""

from __future__ import annotations

import os
import stat

import pytest

from tests.acl.conftest import AclEnv, add_member, needs_root, remove_member
from tests.support.runtime import Identity, Runtime
from workspace.acl import queue
from workspace.acl.core import AclCore
from workspace.auth import accounts
from workspace.db.queries import acl as q
from workspace.errors import PermissionDenied
from workspace.posixacl import USER
from workspace.store.acl import Readers

pytestmark = needs_root


@pytest.fixture
def people(runtime: Runtime) -> dict[str, Identity]:
    return {name: runtime.user(name) for name in ("bob", "carol", "dave")}


def test_a_grant_names_exactly_the_reader_and_nobody_else(
        env: AclEnv, people: dict[str, Identity]) -> None:
    bob, carol = env.user(people["bob"]), env.user(people["carol"])
    env.grant_role(bob.name, "reader", "shared/*")
    (oid,) = env.objects(b"cats")
    env.acl.grant(bob, "shared/cats", [oid])
    assert env.readers(oid) == Readers(users=frozenset({bob.uid}))
    mode = stat.S_IMODE(env.store.stat(oid).st_mode)  # type: ignore[union-attr]
    assert mode == 0o440  # owner r, mask r (the group bits), other nothing

    with pytest.raises(PermissionDenied):
        env.acl.grant(carol, "shared/cats", [oid])  # no role: nothing is given
    assert env.readers(oid) == Readers(users=frozenset({bob.uid}))


def test_a_revoke_takes_away_only_what_no_other_dataset_gives(
        env: AclEnv, people: dict[str, Identity]) -> None:
    bob, carol = env.user(people["bob"]), env.user(people["carol"])
    env.grant_role(bob.name, "reader", "shared/cats")
    env.grant_role(bob.name, "reader", "shared/dogs")
    env.grant_role(carol.name, "reader", "shared/*")
    only_cats, both = env.objects(b"only in cats", b"in cats and in dogs")
    for caller in (bob, carol):
        env.acl.grant(caller, "shared/cats", [only_cats, both])
    env.acl.grant(bob, "shared/dogs", [both])

    env.revoke_role(bob.name, "reader", "shared/cats")
    env.settle()
    assert env.readers(only_cats).users == {carol.uid}
    assert env.readers(both).users == {bob.uid, carol.uid}  # dogs still gives it to bob
    assert _revoke_events(env) == [("shared/cats", f"user:{bob.name}", 2)]

    env.grant_role(bob.name, "reader", "shared/cats")  # re-grant: existing links read again
    env.settle()
    assert env.readers(only_cats).users == {bob.uid, carol.uid}


def test_a_group_reads_through_one_entry_and_a_denied_member_is_blocked(
        env: AclEnv, people: dict[str, Identity], team: tuple[str, int]) -> None:
    name, gid = team
    add_member(name, people["bob"])
    add_member(name, people["dave"])
    bob, dave = env.user(people["bob"], f"group:{name}"), env.user(people["dave"])
    env.grant_role(f"group:{name}", "reader", "team/*")
    (oid,) = env.objects(b"team data")
    env.acl.grant(bob, "team/data", [oid])
    assert env.readers(oid) == Readers(groups=frozenset({gid}))  # no user entry at all

    with env.db.write() as session:  # a deny rule on one member (as a policy file would)
        env.authorizer.add_rule(session, dave.name, "team/*", "read", "deny")
    env.settle()
    assert env.readers(oid) == Readers(groups=frozenset({gid}), blocked=frozenset({dave.uid}))

    remove_member(name, people["dave"])  # no longer a member: no longer needs blocking
    with env.db.write() as session:
        q.request_evaluation(session)
    env.settle()
    assert env.readers(oid) == Readers(groups=frozenset({gid}))


def test_a_disabled_user_reads_nothing_and_enabling_gives_it_back(
        env: AclEnv, people: dict[str, Identity]) -> None:
    bob = env.user(people["bob"])
    env.grant_role(bob.name, "reader", "shared/*")
    oids = env.objects(b"a", b"b")
    env.acl.grant(bob, "shared/x", oids)
    for disabled in (True, False):
        with env.db.write() as session:
            accounts.set_disabled(session, bob, bob.name, disabled,
                                  is_last_admin=lambda name: False)
        env.settle()
        assert all((bob.uid in env.readers(oid).users) != disabled for oid in oids)


def test_an_interrupted_revoke_resumes_where_it_stopped(
        env: AclEnv, people: dict[str, Identity]) -> None:
    bob, carol = env.user(people["bob"]), env.user(people["carol"])
    env.grant_role(bob.name, "reader", "shared/*")
    env.grant_role(carol.name, "reader", "shared/*")
    oids = sorted(env.objects(*(f"file {i}".encode() for i in range(50))))
    env.acl.grant(bob, "shared/big", oids)
    env.acl.grant(carol, "shared/big", oids)
    env.revoke_role(bob.name, "reader", "shared/*")
    queue.evaluate_if_due(env.core, refresh_interval=3600)
    for _ in range(3):  # batches of 7, then the daemon "dies"
        assert queue.next_batch(env.core)
    still = [oid for oid in oids if bob.uid in env.readers(oid).users]
    assert len(still) == 50 - 21 and still == oids[21:]

    restarted = AclCore.open(env.db, env.store, env.authorizer, batch_size=7)
    while queue.next_batch(restarted):
        pass
    assert all(env.readers(oid).users == {carol.uid} for oid in oids)
    assert _revoke_events(env) == [("shared/big", f"user:{bob.name}", 50)]


def test_rows_left_pending_by_a_crash_are_healed_at_start(
        env: AclEnv, people: dict[str, Identity]) -> None:
    bob = env.user(people["bob"])
    env.grant_role(bob.name, "reader", "shared/*")
    oids = env.objects(b"x", b"y")
    with env.db.write() as session:  # committed rows, then the crash before any setxattr
        row = q.add_holding(session, env.core.store_id, USER, bob.uid, "shared/x", "allow")
        q.add_objects(session, row.id, oids)
    assert all(env.readers(oid).users == set() for oid in oids)
    assert queue.heal_pending(env.core) == 2
    assert all(env.readers(oid).users == {bob.uid} for oid in oids)
    with env.db.read() as session:
        assert q.pending(session, env.core.store_id) == []


def test_forgetting_a_datasets_objects_rewrites_them(
        env: AclEnv, people: dict[str, Identity]) -> None:
    """The call gc and prune make: rows go, ACLs are recomputed from what remains."""
    bob = env.user(people["bob"])
    env.grant_role(bob.name, "reader", "shared/*")
    (oid,) = env.objects(b"pruned")
    env.acl.grant(bob, "shared/x", [oid])
    env.acl.forget([oid], dataset="shared/x")
    assert env.readers(oid) == Readers()
    assert os.path.exists(env.store.object_path(oid))


def _revoke_events(env: AclEnv) -> list[tuple[str | None, str, int]]:
    from sqlalchemy import select

    from workspace.db.models import AuditEvent

    with env.db.read() as session:
        rows = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "acl:objects:revoke").order_by(AuditEvent.id)).all()
    import json

    return [(r.dataset, json.loads(r.detail)["principal"], json.loads(r.detail)["objects"])
            for r in rows]

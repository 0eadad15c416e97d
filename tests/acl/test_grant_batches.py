"""Grants that wait for the ACL lock are done in one pass, each keeping its own outcome.

The lock is held by the test while several callers' grants queue up behind it
(as during a revoke's batch, or another user's grant); when it is let go, the
first grant to get it does every queued one: one ACL write per object naming
them all. A caller refused (the ACL limit, a role revoked meanwhile) gets its
own error and loses only its own rows; the others are let in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tests.acl.conftest import AclEnv, needs_root
from tests.support.runtime import Runtime
from workspace.auth.identity import Caller
from workspace.db.queries import acl as q
from workspace.errors import AclFull, PermissionDenied

pytestmark = needs_root


def _queued_behind_the_lock(env: AclEnv, grants: list[Callable[[], None]]
                            ) -> list[BaseException | None]:
    """Run ``grants`` in threads while the test holds the lock; let go once all are queued."""
    outcome: list[BaseException | None] = [None] * len(grants)

    def run(index: int) -> None:
        try:
            grants[index]()
        except BaseException as exc:
            outcome[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(grants))]
    with env.core.lock:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while env.core.grants.waiting < len(grants):
            assert time.monotonic() < deadline, "the grants never queued up"
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=30)
    return outcome


def _callers(env: AclEnv, runtime: Runtime, *names: str) -> list[Caller]:
    callers = [env.user(runtime.user(name)) for name in names]
    for caller in callers:
        env.grant_role(caller.name, "reader", "shared/*")
    return callers


def test_grants_queued_behind_the_lock_are_done_in_one_pass(env: AclEnv,
                                                             runtime: Runtime) -> None:
    bob, carol, dave = _callers(env, runtime, "bob", "carol", "dave")
    oids = env.objects(b"one", b"two", b"three")
    before = env.core.grants.stats.passes
    outcome = _queued_behind_the_lock(env, [
        lambda who=who: env.acl.grant(who, "shared/x", oids) for who in (bob, carol, dave)])
    assert outcome == [None, None, None]
    assert env.core.grants.stats.passes == before + 1  # one pass for the three
    assert all(env.readers(oid).users == {bob.uid, carol.uid, dave.uid} for oid in oids)
    with env.db.read() as session:
        assert q.pending(session, env.core.store_id) == []  # every row settled


def test_a_caller_past_the_limit_is_refused_alone_in_a_shared_pass(env: AclEnv,
                                                                   runtime: Runtime) -> None:
    env.store.max_acl_entries = 2
    bob, carol, dave = _callers(env, runtime, "bob", "carol", "dave")
    oids = env.objects(b"one", b"two")
    env.acl.grant(bob, "shared/x", oids)
    outcome = _queued_behind_the_lock(env, [
        lambda: env.acl.grant(carol, "shared/x", oids),
        lambda: env.acl.grant(dave, "shared/x", oids)])
    assert outcome[0] is None and isinstance(outcome[1], AclFull)  # arrival order decides
    assert all(env.readers(oid).users == {bob.uid, carol.uid} for oid in oids)
    with env.db.read() as session:
        claims = q.claims(session, env.core.store_id, oids)
    assert {c.ident for c in claims} == {bob.uid, carol.uid}  # dave's rows were taken back


def test_a_caller_whose_role_went_is_refused_while_the_others_are_let_in(
        env: AclEnv, runtime: Runtime) -> None:
    bob, carol = _callers(env, runtime, "bob", "carol")
    oids = env.objects(b"one", b"two")
    env.revoke_role(carol.name, "reader", "shared/*")  # after her route's check, as it were
    outcome = _queued_behind_the_lock(env, [
        lambda: env.acl.grant(carol, "shared/x", oids),
        lambda: env.acl.grant(bob, "shared/x", oids)])
    assert isinstance(outcome[0], PermissionDenied) and outcome[1] is None
    assert "carol" in outcome[0].message
    assert all(env.readers(oid).users == {bob.uid} for oid in oids)


def test_grants_one_after_another_each_take_their_own_pass(env: AclEnv,
                                                          runtime: Runtime) -> None:
    bob, carol = _callers(env, runtime, "bob", "carol")
    oids = env.objects(b"one")
    before = env.core.grants.stats.passes
    env.acl.grant(bob, "shared/x", oids)
    env.acl.grant(carol, "shared/x", oids)
    assert env.core.grants.stats.passes == before + 2
    assert env.readers(oids[0]).users == {bob.uid, carol.uid}

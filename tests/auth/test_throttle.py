"""The login throttle keyed by (name, client address), with a per-name ceiling; pruning of
stale credential rows (driven with an injected ``now``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.auth.conftest import PASSWORD, T0, UserMaker
from workspace.audit.aggregate import Tally
from workspace.auth import accounts, api_tokens, pruning, throttle, tokens
from workspace.auth.authenticate import BAD_CREDENTIALS, login, set_password
from workspace.auth.identity import Caller
from workspace.auth.passwords import PasswordHasher
from workspace.db import Database
from workspace.db.models import AuditEvent
from workspace.db.queries import credentials
from workspace.errors import AuthenticationRequired

GUESSER, OWNER = "198.51.100.7", "203.0.113.9"
WRONG = "wrong password!!"


def _person(db: Database, hasher: PasswordHasher, make_user: UserMaker) -> str:
    user_id, name = make_user()
    set_password(db, hasher, actor="root", user_id=user_id, password=PASSWORD, now=T0)
    return name


def _refused(db: Database, hasher: PasswordHasher, name: str, password: str, client: str,
             now: datetime = T0, policy: throttle.ThrottlePolicy = throttle.DEFAULT_POLICY,
             refusals: Tally | None = None) -> AuthenticationRequired:
    with pytest.raises(AuthenticationRequired) as caught:
        login(db, hasher, name, password, client=client, now=now, policy=policy,
              refusals=refusals or Tally())
    return caught.value


def _guess(db: Database, hasher: PasswordHasher, name: str, client: str, times: int,
           policy: throttle.ThrottlePolicy = throttle.DEFAULT_POLICY) -> None:
    """``times`` wrong passwords from ``client``, each after the wait it was told."""
    now = T0
    for _ in range(times):
        assert _refused(db, hasher, name, WRONG, client, now, policy).message == BAD_CREDENTIALS
        now += policy.cap


def test_a_guesser_on_one_address_does_not_make_the_user_wait_on_another(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    name = _person(db, hasher, make_user)
    _guess(db, hasher, name, GUESSER, 7)
    last_guess = T0 + 6 * throttle.DEFAULT_POLICY.cap
    waiting = _refused(db, hasher, name, PASSWORD, GUESSER, last_guess)
    assert waiting.details["retry_after"] == 64  # the guesser backs off...
    caller = login(db, hasher, name, PASSWORD, client=OWNER, refusals=Tally(),
                   now=T0 + timedelta(hours=2))
    assert caller.name == name  # ...the user, elsewhere, does not
    with db.read() as session:
        assert throttle.state(session, name, GUESSER) is not None  # still counted
        assert throttle.state(session, name) is None  # the name's count restarts
    again = _refused(db, hasher, name, PASSWORD, GUESSER, last_guess + timedelta(seconds=63))
    assert "wait" in again.message


def test_the_per_name_ceiling_locks_the_name_for_every_address(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    policy = throttle.ThrottlePolicy(lockout_after=5, name_lockout_after=12)
    name = _person(db, hasher, make_user)
    for n in range(2):
        _guess(db, hasher, name, f"192.0.2.{n}", 5, policy)  # two addresses locked out
    _guess(db, hasher, name, "192.0.2.9", 2, policy)  # the twelfth failure in all
    for client in ("192.0.2.9", OWNER):
        refused = _refused(db, hasher, name, PASSWORD, client, T0 + timedelta(days=1), policy)
        assert "from many addresses: it is locked" in refused.message
    with db.read() as session:
        whole = throttle.state(session, name)
        assert whole is not None and whole.locked and whole.failures == 12
    with db.write() as session:
        assert len(throttle.unlock(session, name)) == 5  # the name, four addresses (one refused)
    caller = login(db, hasher, name, PASSWORD, client=OWNER, refusals=Tally(), now=T0,
                   policy=policy)
    assert caller.name == name


def test_the_default_numbers() -> None:
    policy = throttle.DEFAULT_POLICY
    assert (policy.lockout_after, policy.name_lockout_after) == (100, 1000)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 10, 11, 99)] == [
        1, 2, 512, 900, 900]


@pytest.mark.parametrize(("host", "uid", "key"), [
    ("127.0.0.2", None, "127.0.0.2"),
    ("2001:db8:1:2:3:4:5:6", None, "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", None, "2001:db8:1:2::/64"),  # one host's /64: one key
    ("::ffff:192.0.2.5", None, "192.0.2.5"),
    (None, 1001, "uid:1001"),
    (None, None, "unknown"),
    ("testclient", None, "host:testclient"),
    ("*", None, "host:*"),
])
def test_client_keys(host: str | None, uid: int | None, key: str) -> None:
    assert throttle.client_key(host, peer_uid=uid) == key


def test_logins_are_audited_with_the_client_address(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    name = _person(db, hasher, make_user)
    _refused(db, hasher, name, WRONG, GUESSER)
    _refused(db, hasher, name, PASSWORD, GUESSER)  # backing off: refused, still audited
    login(db, hasher, name, PASSWORD, client=OWNER, refusals=Tally(), now=T0)
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.actor == name)
                                 .order_by(AuditEvent.id)).all()
        seen = [(e.action, json.loads(e.detail)["client"]) for e in events
                if e.action.startswith("account:login")]
    assert seen == [("account:login:failure", GUESSER), ("account:login:failure", GUESSER),
                    ("account:login:success", OWNER)]


def test_unlock_is_audited_with_the_addresses_it_forgave(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    name = _person(db, hasher, make_user)
    _guess(db, hasher, name, GUESSER, 1)
    admin = Caller(0, "root", 0)
    with db.write() as session:
        assert accounts.unlock(session, admin, name) == (True, [GUESSER])
    with db.write() as session:
        assert accounts.unlock(session, admin, name) == (False, [])
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert event is not None and (event.actor, event.action) == ("root",
                                                                      "account:user:unlock")
        assert json.loads(event.detail) == {"user": name, "had_failures": False,
                                            "addresses": []}


def test_prune_forgets_only_what_protects_nothing(db: Database,
                                                  make_user: UserMaker) -> None:
    now = T0 + timedelta(days=400)
    day = timedelta(days=1)
    user_id, name = make_user()
    with db.write() as session:
        for client, idle, locked in (("10.0.0.1", 2 * day, False), ("10.0.0.2", 2 * day, True),
                                     ("10.0.0.3", day / 2, False)):
            row = credentials.throttle_rows_for_update(session, name, [client], now=now - idle)
            row[0].failures, row[0].locked = 3, locked
        tokens.revoke_jti(session, f"gone-{name}", expires_at=now - timedelta(seconds=1))
        tokens.revoke_jti(session, f"live-{name}", expires_at=now + timedelta(hours=1))
        made = {label: api_tokens.create(session, user_id=user_id, name=label,
                                         expires_in=expires, now=now - age).id
                for label, expires, age in (("old-expired", 5 * day, 40 * day),
                                            ("new-expired", 5 * day, 6 * day),
                                            ("active", None, 400 * day),
                                            ("old-revoked", None, 40 * day),
                                            ("new-revoked", None, 40 * day))}
        api_tokens.revoke(session, made["old-revoked"], now=now - 31 * day)
        api_tokens.revoke(session, made["new-revoked"], now=now - 29 * day)
    with db.write() as session:
        pruned = pruning.prune(session, now=now)
    assert pruned.throttle_rows >= 1 and pruned.revoked_jwts >= 1 and pruned.api_tokens >= 2
    with db.read() as session:
        assert [r.client for r in throttle.states(session, name)] == ["10.0.0.2", "10.0.0.3"]
        assert not credentials.jwt_is_revoked(session, f"gone-{name}")
        assert credentials.jwt_is_revoked(session, f"live-{name}")
        left = {info.name for info in api_tokens.list_for(session, user_id)}
    assert left == {"new-expired", "active", "new-revoked"}


def test_a_flood_of_unchecked_refusals_is_counted_not_written_one_row_each(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    name = _person(db, hasher, make_user)
    tally = Tally()
    _refused(db, hasher, name, WRONG, GUESSER, refusals=tally)  # checked: one row
    for n in range(50):  # backing off: refused before any check, as fast as sent
        _refused(db, hasher, name, PASSWORD, GUESSER, T0 + n * timedelta(milliseconds=10),
                 refusals=tally)
    for _ in range(30):
        _refused(db, hasher, "", PASSWORD, GUESSER, refusals=tally)  # malformed
    tally.flush(db, everything=True)
    with db.read() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "account:login:failure").order_by(AuditEvent.id)).all()
        ours = [json.loads(e.detail) for e in events if e.actor in (name, "")]
    assert [(d["why"] == BAD_CREDENTIALS, d.get("count")) for d in ours] == [
        (True, None), (False, 1), (True, 1), (False, 49), (True, 29)]

"""Password login and bearer tokens: throttled per name and address, one error that reveals
no account, every attempt audited."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from tests.auth.conftest import CHEAP, PASSWORD, T0, UserMaker
from workspace.audit.aggregate import Tally
from workspace.auth import api_tokens, throttle, tokens
from workspace.auth.authenticate import (
    BAD_CREDENTIALS,
    authenticate_bearer,
    login,
    remove_password,
    set_password,
)
from workspace.auth.passwords import Argon2Params, PasswordHasher, params_of
from workspace.db import Database
from workspace.db.queries import credentials
from workspace.errors import AuthenticationRequired, InvalidInput, PermissionDenied, WorkspaceError

HOUR = timedelta(hours=1)
CLIENT = "192.0.2.1"


def _person(db: Database, hasher: PasswordHasher, make_user: UserMaker, **flags: bool,
            ) -> tuple[int, str]:
    user_id, name = make_user(**flags)
    set_password(db, hasher, actor="root", user_id=user_id, password=PASSWORD, now=T0)
    return user_id, name


def _error(db: Database, hasher: PasswordHasher, name: str, password: str, now: datetime,
           ) -> WorkspaceError:
    with pytest.raises(AuthenticationRequired) as caught:
        login(db, hasher, name, password, client=CLIENT, refusals=Tally(), now=now)
    return caught.value


def test_the_right_password_logs_in(db: Database, hasher: PasswordHasher,
                                    make_user: UserMaker) -> None:
    user_id, name = _person(db, hasher, make_user)
    caller = login(db, hasher, name, PASSWORD, client=CLIENT, refusals=Tally(), now=T0)
    assert (caller.user_id, caller.name, caller.uid) == (user_id, name, None)


def test_unknown_names_and_wrong_passwords_get_the_same_error(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    _, name = _person(db, hasher, make_user)
    _, robot = make_user(robot=True)
    _, disabled = _person(db, hasher, make_user, disabled=True)
    _, passwordless = make_user()
    cases = [(name, "wrong password!!"), ("nobody-" + name, PASSWORD), (robot, PASSWORD),
             (disabled, PASSWORD), (passwordless, PASSWORD), ("", PASSWORD), ("x" * 65, PASSWORD)]
    payloads = {repr(_error(db, hasher, n, p, T0).to_payload()) for n, p in cases}
    assert len(payloads) == 1 and BAD_CREDENTIALS in payloads.pop()
    # ...and so do the throttling messages: the next try of each name waits alike.
    waits = {repr(_error(db, hasher, n, p, T0).to_payload()) for n, p in cases[:5]}
    assert len(waits) == 1 and "retry_after" in waits.pop()


def test_back_off_doubles_up_to_fifteen_minutes(db: Database, hasher: PasswordHasher,
                                               make_user: UserMaker) -> None:
    _, name = _person(db, hasher, make_user)
    now, waits = T0, []
    for _ in range(13):
        assert _error(db, hasher, name, "wrong password!!", now).message == BAD_CREDENTIALS
        refusal = _error(db, hasher, name, PASSWORD, now)  # refused before checking
        waits.append(refusal.details["retry_after"])
        assert _error(db, hasher, name, PASSWORD, now + timedelta(seconds=waits[-1] - 0.5)
                      ).details["retry_after"] == 1
        now += timedelta(seconds=waits[-1])
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert login(db, hasher, name, PASSWORD, client=CLIENT, refusals=Tally(), now=now).name == name
    with db.read() as session:
        assert throttle.state(session, name) is None  # success forgets the failures


@pytest.mark.parametrize("known", [True, False])
def test_an_address_is_locked_out_of_a_name_after_a_hundred_failures_until_unlocked(
        db: Database, hasher: PasswordHasher, make_user: UserMaker, known: bool) -> None:
    _, name = _person(db, hasher, make_user)
    if not known:
        name = "ghost-" + name
    now = T0
    for _ in range(100):
        assert _error(db, hasher, name, "wrong password!!", now).message == BAD_CREDENTIALS
        now += timedelta(minutes=15)
    with db.read() as session:
        record = throttle.state(session, name, CLIENT)
        assert record is not None and record.locked and record.failures == 100
    locked = _error(db, hasher, name, PASSWORD, now + timedelta(days=30))
    assert "locked here" in locked.message and "ws user unlock" in (locked.hint or "")
    with db.write() as session:
        assert sorted(throttle.unlock(session, name)) == sorted([throttle.ALL_CLIENTS, CLIENT])
    if known:
        caller = login(db, hasher, name, PASSWORD, client=CLIENT, refusals=Tally(), now=now)
        assert caller.name == name


def test_parallel_guesses_cannot_share_one_back_off_window(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    _, name = _person(db, hasher, make_user)
    _error(db, hasher, name, "wrong password!!", T0)
    messages: list[str] = []

    def guess() -> None:
        messages.append(_error(db, hasher, name, "wrong password!!", T0 + HOUR).message)

    threads = [threading.Thread(target=guess) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert messages.count(BAD_CREDENTIALS) == 1 and len(messages) == 6


def test_login_upgrades_a_hash_made_with_older_parameters(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    user_id, name = _person(db, hasher, make_user)
    stronger = PasswordHasher(Argon2Params(CHEAP.memory_kib * 2, CHEAP.time_cost + 1, 1))
    login(db, stronger, name, PASSWORD, client=CLIENT, refusals=Tally(), now=T0)
    with db.read() as session:
        stored = credentials.password_hash(session, user_id)
    assert stored is not None and params_of(stored)[1] == stronger.params
    again = login(db, hasher, name, PASSWORD, client=CLIENT, refusals=Tally(), now=T0 + HOUR)
    assert again.user_id == user_id  # still verifies


def test_a_wrong_password_does_not_upgrade_the_hash(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    user_id, name = _person(db, hasher, make_user)
    with db.read() as session:
        before = credentials.password_hash(session, user_id)
    stronger = PasswordHasher(Argon2Params(CHEAP.memory_kib * 2, CHEAP.time_cost, 1))
    _error(db, stronger, name, "wrong password!!", T0)
    with db.read() as session:
        assert credentials.password_hash(session, user_id) == before


def test_robots_cannot_have_passwords_and_removed_ones_stop_working(
        db: Database, hasher: PasswordHasher, make_user: UserMaker) -> None:
    robot_id, _ = make_user(robot=True)
    with pytest.raises(InvalidInput, match="robot"):
        set_password(db, hasher, actor="root", user_id=robot_id, password=PASSWORD, now=T0)
    user_id, name = _person(db, hasher, make_user)
    with db.write() as session:
        assert remove_password(session, user_id=user_id)
    assert _error(db, hasher, name, PASSWORD, T0).message == BAD_CREDENTIALS


def test_a_bearer_jwt_or_api_token_names_its_caller(
        db: Database, keys: tokens.JwtKeys, make_user: UserMaker) -> None:
    user_id, name = make_user()
    robot_id, robot = make_user(robot=True)
    issued = tokens.issue(keys, user_id=user_id)
    with db.write() as session:
        created = api_tokens.create(session, user_id=robot_id, name="ci", expires_in=None,
                                    now=T0)
    with db.read() as session:
        by_jwt = authenticate_bearer(session, keys, issued.token, now=T0)
        by_api = authenticate_bearer(session, keys, created.token, now=T0)
    assert (by_jwt.caller.name, by_jwt.via, by_jwt.credential_id) == (name, "jwt", issued.jti)
    assert (by_api.caller.name, by_api.via, by_api.credential_id) == (robot, "api_token",
                                                                       created.id)
    assert by_api.touch_due and not by_jwt.touch_due


def test_bad_bearers_get_one_error_and_disabled_accounts_are_told(
        db: Database, keys: tokens.JwtKeys, make_user: UserMaker) -> None:
    disabled_id, _ = make_user(disabled=True)
    good = tokens.issue(keys, user_id=disabled_id).token
    bad = ["", "x" * 5000, "ws_nope", good[:-2], tokens.issue(keys, user_id=10**9).token,
           tokens.issue(tokens.JwtKeys(b"k" * 32), user_id=disabled_id).token]
    with db.read() as session:
        for token in bad:
            with pytest.raises(AuthenticationRequired) as caught:
                authenticate_bearer(session, keys, token, now=T0)
            assert caught.value.to_payload() == tokens.invalid_token().to_payload()
        with pytest.raises(PermissionDenied, match="disabled") as denied:
            authenticate_bearer(session, keys, good, now=T0)
    assert not isinstance(denied.value, AuthenticationRequired)

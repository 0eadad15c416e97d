"""API tokens: shown once, stored only as a digest, refused once revoked or expired."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.auth.conftest import T0, UserMaker
from workspace.auth import api_tokens
from workspace.auth.tokens import INVALID_TOKEN
from workspace.db import Database
from workspace.errors import AuthenticationRequired, InvalidInput, NotFound


def _create(db: Database, user_id: int, *, name: str = "ci", expires_in: timedelta | None = None,
            ) -> api_tokens.CreatedToken:
    with db.write() as session:
        return api_tokens.create(session, user_id=user_id, name=name, expires_in=expires_in,
                                 now=T0)


def _refused(db: Database, token: str, *, at: timedelta = timedelta(0)) -> None:
    with db.read() as session, pytest.raises(AuthenticationRequired) as caught:
        api_tokens.verify(session, token, now=T0 + at)
    assert caught.value.message == INVALID_TOKEN


def test_a_token_has_the_documented_shape_and_works(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id)
    assert re.fullmatch(r"ws_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", created.token)
    assert created.token.split("_", 2)[1] == created.id and created.expires_at is None
    with db.read() as session:
        use = api_tokens.verify(session, created.token, now=T0)
    assert (use.id, use.user_id, use.touch_due) == (created.id, user_id, True)


def test_the_database_never_holds_the_secret(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id)
    secret = created.token.split("_", 2)[2]
    with db.read() as session:
        rows = session.execute(text("SELECT * FROM api_tokens")).all()
    dumped = repr(rows)
    assert created.id in dumped and secret not in dumped and created.token not in dumped
    if db.is_sqlite:  # the raw bytes too, write-ahead log included
        path = Path(db.url.removeprefix("sqlite:///"))
        raw = b"".join(file.read_bytes() for file in (path, path.with_name(path.name + "-wal"))
                       if file.exists())
        assert created.id.encode() in raw and secret.encode() not in raw


def test_the_full_token_is_never_shown_again(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id)
    with db.read() as session:
        listed = api_tokens.list_for(session, user_id)
        single = api_tokens.info(session, created.id)
    assert listed == [single]
    secret = created.token.split("_", 2)[2]
    assert secret not in repr(listed)


def test_a_revoked_token_is_refused(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id)
    kept = _create(db, user_id, name="kept")
    with db.write() as session:
        first = api_tokens.revoke(session, created.id, now=T0 + timedelta(minutes=1))
        again = api_tokens.revoke(session, created.id, now=T0 + timedelta(minutes=2))
    assert first.revoked_at == again.revoked_at == T0 + timedelta(minutes=1)
    assert first.state(T0) == "revoked"
    _refused(db, created.token, at=timedelta(minutes=3))
    with db.read() as session:
        assert api_tokens.verify(session, kept.token, now=T0).id == kept.id


def test_an_expired_token_is_refused(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id, expires_in=timedelta(days=90))
    assert created.expires_at == T0 + timedelta(days=90)
    with db.read() as session:
        api_tokens.verify(session, created.token, now=T0 + timedelta(days=89))
        assert api_tokens.info(session, created.id).state(T0 + timedelta(days=90)) == "expired"
    _refused(db, created.token, at=timedelta(days=90))


def test_forged_tokens_are_refused(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id)
    _, token_id, secret = created.token.split("_", 2)
    other_secret = ("A" if secret[0] != "A" else "B") + secret[1:]
    for forged in (f"ws_{token_id}_{other_secret}", f"ws_{'0' * 16}_{secret}",
                   created.token + "\n", created.token[:-1], f"ws_{token_id.upper()}_{secret}",
                   "ws_", "ws__", f"ws_{token_id}_"):
        _refused(db, forged)


def test_use_is_recorded_at_most_once_a_minute(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    created = _create(db, user_id)
    with db.write() as session:
        api_tokens.touch(session, created.id, now=T0)
    with db.read() as session:
        assert not api_tokens.verify(session, created.token, now=T0 + timedelta(seconds=59)
                                     ).touch_due
        assert api_tokens.verify(session, created.token, now=T0 + timedelta(seconds=60)).touch_due
        assert api_tokens.info(session, created.id).last_used_at == T0


def test_bad_names_and_lifetimes_are_refused(db: Database, make_user: UserMaker) -> None:
    user_id, _ = make_user(robot=True)
    for name in ["", " ci", "ci ", "a\nb", "a,b", "x" * 101, "tab\there", "q'uote"]:
        with pytest.raises(InvalidInput):
            _create(db, user_id, name=name)
    with pytest.raises(InvalidInput):
        _create(db, user_id, expires_in=timedelta(0))


def test_revoking_an_unknown_id_says_so(db: Database) -> None:
    with db.write() as session, pytest.raises(NotFound):
        api_tokens.revoke(session, "0123456789abcdef", now=T0)

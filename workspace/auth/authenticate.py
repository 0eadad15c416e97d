"""The remote door's checks: password login (throttled) and bearer tokens (JWT or API token).

``login`` takes the ``Database`` rather than a session, unlike other services,
for two reasons: a failed attempt must stay counted although the login then
raises (a request-owned transaction would roll the count back with the
error), and argon2 must not run inside a write transaction (on SQLite that
would stall every writer of the daemon for the length of a hash). So it runs
in three phases: claim the attempt (short write), verify (no transaction),
record the outcome (short write). The audit events of logins and password
changes are written here, in those transactions, not by the routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.audit.aggregate import Tally
from workspace.auth import api_tokens, throttle, tokens
from workspace.auth.identity import Caller
from workspace.auth.passwords import MAX_LENGTH, PasswordHasher
from workspace.db.engine import Database
from workspace.db.models import User
from workspace.db.queries import credentials, users
from workspace.errors import AuthenticationRequired, InvalidInput, PermissionDenied

BAD_CREDENTIALS = "invalid user name or password"
MAX_NAME = 64
MAX_BEARER = 4096


@dataclass(frozen=True, slots=True)
class Bearer:
    """A caller identified by a bearer token; ``credential_id`` is the jti or API token id."""

    caller: Caller
    via: Literal["jwt", "api_token"]
    credential_id: str
    touch_due: bool
    """An API token whose ``last_used_at`` is stale: call ``api_tokens.touch`` in a write."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    caller: Caller | None
    hashed: str | None


def bad_credentials() -> AuthenticationRequired:
    """The one error for an unknown name, a wrong password, or an account that cannot log in."""
    return AuthenticationRequired(
        BAD_CREDENTIALS, hint="check both and try again; each failure makes the next wait longer"
    )


def login(
    db: Database,
    hasher: PasswordHasher,
    name: str,
    password: str,
    *,
    client: str,
    now: datetime,
    refusals: Tally,
    policy: throttle.ThrottlePolicy = throttle.DEFAULT_POLICY,
    door: str = "api",
) -> Caller:
    """The user ``name`` if ``password`` is theirs; otherwise ``AuthenticationRequired``.

    Throttled per (name, ``client``) and per name (``throttle``). Every
    checked password is an audit event (``account:login:success`` or
    ``:failure``), written in the transaction that records the outcome.
    Attempts refused without a check (malformed, or throttled) cost the
    sender nothing, so they are aggregated in ``refusals`` (per client and
    name: the first at once, then a count), never written one row each.
    ``door`` (``api`` or ``dashboard``) is recorded with each event.
    """
    where = _Where(client, door)
    if not 0 < len(name) <= MAX_NAME or not name.isprintable() or len(password) > MAX_LENGTH:
        _refused(db, refusals, name, where, BAD_CREDENTIALS, now, key=("malformed", client))
        raise bad_credentials()  # no account can have such a name or password
    with db.write() as session:
        refusal = throttle.claim(session, name, client, now=now, policy=policy)
        candidate = _Candidate(None, None) if refusal else _candidate(session, name)
    if refusal is not None:
        error = refusal.error()
        state = "locked" if refusal.locked else "waiting"
        _refused(db, refusals, name, where, error.message, now, key=(state, name, client))
        raise error
    ok, new_hash = _check(hasher, candidate, password)
    with db.write() as session:
        _record_outcome(session, name, where, candidate, ok, new_hash, now=now, policy=policy)
    if not ok or candidate.caller is None:
        raise bad_credentials()
    return candidate.caller


@dataclass(frozen=True, slots=True)
class _Where:
    """Where a login comes from: the throttle's client key, and the door it used."""

    client: str
    door: str

    def detail(self, why: str) -> dict[str, str]:
        return {"via": "password", "why": why, "client": self.client, "door": self.door}


def _refused(db: Database, refusals: Tally, name: str, where: _Where, why: str,
             now: datetime, *, key: tuple[str, ...]) -> None:
    actor = name[:MAX_NAME] if name.isprintable() else repr(name)[:MAX_NAME]
    refusals.note(db, ("login", *key), actor=actor,
                  action=Action.ACCOUNT_LOGIN_FAILURE, detail=where.detail(why),
                  message=f"login as {actor} from {where.client} refused unchecked: {why}",
                  now=now)


def _candidate(session: Session, name: str) -> _Candidate:
    user = users.by_name(session, name)
    if user is None or user.disabled or user.is_robot:
        return _Candidate(None, None)
    return _Candidate(_caller(user), credentials.password_hash(session, user.id))


def _check(hasher: PasswordHasher, candidate: _Candidate, password: str) -> tuple[bool, str | None]:
    if candidate.caller is None or candidate.hashed is None:
        hasher.dummy_verify(password)
        return False, None
    return hasher.verify_and_update(candidate.hashed, password)


def _record_outcome(
    session: Session, name: str, where: _Where, candidate: _Candidate, ok: bool,
    new_hash: str | None, *, now: datetime, policy: throttle.ThrottlePolicy,
) -> None:
    if not ok or candidate.caller is None:
        throttle.failed(session, name, where.client, now=now, policy=policy)
        _audit(session, name, where, ok=False, why=BAD_CREDENTIALS)
        return
    throttle.succeeded(session, name, where.client)
    _audit(session, candidate.caller.name, where, ok=True, why="password")
    user_id = candidate.caller.user_id
    # Upgrade the hash only if nobody changed the password while we were verifying.
    if new_hash and credentials.password_hash(session, user_id) == candidate.hashed:
        credentials.set_password_hash(session, user_id, new_hash, now=now)


def _audit(session: Session, name: str, where: _Where, *, ok: bool, why: str) -> None:
    action = Action.ACCOUNT_LOGIN_SUCCESS if ok else Action.ACCOUNT_LOGIN_FAILURE
    record(session, actor=name, action=action, detail=where.detail(why))


def set_password(
    db: Database, hasher: PasswordHasher, *, actor: str, user_id: int, password: str,
    now: datetime,
) -> None:
    """Give a person a password (robots use API tokens), audited with ``actor`` as who
    set it. Hashes outside any transaction."""
    with db.read() as session:
        _password_holder(session, user_id)
    hashed = hasher.hash(password)
    with db.write() as session:
        user = _password_holder(session, user_id)
        credentials.set_password_hash(session, user_id, hashed, now=now)
        record(session, actor=actor, action=Action.ACCOUNT_PASSWORD_SET,
               detail={"user": user.name})


def remove_password(session: Session, *, user_id: int) -> bool:
    """The user can no longer log in with a password; False if they had none."""
    return credentials.delete_password(session, user_id)


def _password_holder(session: Session, user_id: int) -> User:
    user = credentials.user_by_id(session, user_id)
    if user is None:
        raise InvalidInput(f"no user with id {user_id}", hint="`ws user list` shows the users")
    if user.is_robot:
        raise InvalidInput(
            f"{user.name} is a robot and cannot have a password",
            hint=f"give it an API token instead: `ws token create {user.name}`",
        )
    return user


def authenticate_bearer(
    session: Session, keys: tokens.JwtKeys, token: str, *, now: datetime
) -> Bearer:
    """Who ``token`` (a JWT from ``ws login`` or an API token) speaks for.

    Every bad token raises the same ``AuthenticationRequired``; a good token of
    a disabled account raises ``PermissionDenied``, as on the local socket.
    """
    if len(token) > MAX_BEARER:
        raise tokens.invalid_token()
    if api_tokens.looks_like(token):
        use = api_tokens.verify(session, token, now=now)
        return Bearer(_bearer_caller(session, use.user_id), "api_token", use.id, use.touch_due)
    claims = tokens.verify(session, keys, token)
    return Bearer(_bearer_caller(session, claims.user_id), "jwt", claims.jti, False)


def _bearer_caller(session: Session, user_id: int) -> Caller:
    user = credentials.user_by_id(session, user_id)
    if user is None:
        raise tokens.invalid_token()
    if user.disabled:
        raise PermissionDenied(f"account {user.name} is disabled", hint="ask an admin")
    return _caller(user)


def _caller(user: User) -> Caller:
    return Caller(user.id, user.name, user.uid)

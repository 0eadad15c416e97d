"""Managing accounts: local users (mapped to Unix users), robots, disabling, API tokens,
unlocking a name locked by failed logins.

Decisions about *who may* manage accounts are the policy's (``admin:users``);
this module keeps the accounts consistent: names unique, a local account
bound to the Unix user of the same name, and never disabling the last admin.
Each change is recorded here, in its own transaction (``actor`` is who asked).
"""

from __future__ import annotations

import pwd
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import api_tokens, throttle
from workspace.auth.identity import Caller
from workspace.db.models import User
from workspace.db.queries import users
from workspace.errors import Conflict, InvalidInput, NotFound

_NAME = re.compile(r"[a-z_][a-z0-9_.-]{0,63}")


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    uid: int | None
    robot: bool
    disabled: bool
    created_at: datetime


def validate_user_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name.startswith("group:"):
        raise InvalidInput(f"{name!r} is not a valid user name",
                           hint="use lower-case letters, digits, '_', '.', '-' "
                           "(as Unix user names), starting with a letter or '_'")
    return name


def add_user(session: Session, actor: Caller, name: str, *, robot: bool) -> Account:
    validate_user_name(name)
    if users.by_name(session, name) is not None:
        raise Conflict(f"user {name} already exists", hint="`ws user list` shows the accounts")
    uid = None if robot else _unix_uid(name)
    if uid is not None and users.by_uid(session, uid) is not None:
        raise Conflict(f"Unix uid {uid} already belongs to another workspace user")
    user = users.create(session, name=name, uid=uid)
    user.is_robot = robot
    record(session, actor=actor.name, action=Action.ACCOUNT_USER_CREATE,
           detail={"user": name, "uid": uid, "robot": robot})
    return _account(user)


def list_users(session: Session) -> list[Account]:
    return [_account(u) for u in session.scalars(select(User).order_by(User.name))]


def set_disabled(session: Session, actor: Caller, name: str, disabled: bool, *,
                 is_last_admin: Callable[[str], bool]) -> Account:
    user = require_user(session, name)
    if disabled and is_last_admin(name):
        raise Conflict(f"{name} is the last admin and cannot be disabled",
                       hint="grant the admin role to someone else first")
    user.disabled = disabled
    action = Action.ACCOUNT_USER_DISABLE if disabled else Action.ACCOUNT_USER_ENABLE
    record(session, actor=actor.name, action=action, detail={"user": name})
    return _account(user)


def unlock(session: Session, actor: Caller, name: str) -> tuple[bool, list[str]]:
    """Forget every failed login of ``name`` (any name: unknown ones are throttled too):
    whether it had any, and the client addresses they came from."""
    clients = throttle.unlock(session, name)
    addresses = [client for client in clients if client != throttle.ALL_CLIENTS]
    record(session, actor=actor.name, action=Action.ACCOUNT_USER_UNLOCK,
           detail={"user": name, "had_failures": bool(clients), "addresses": addresses})
    return bool(clients), addresses


def create_token(session: Session, actor: Caller, owner: str, name: str, *,
                 expires_in: timedelta | None, now: datetime) -> api_tokens.CreatedToken:
    user = require_user(session, owner)
    created = api_tokens.create(session, user_id=user.id, name=name, expires_in=expires_in,
                                now=now)
    expires = created.expires_at.isoformat() if created.expires_at else None
    record(session, actor=actor.name, action=Action.ACCOUNT_TOKEN_CREATE,
           detail={"user": owner, "id": created.id, "name": name, "expires_at": expires})
    return created


def revoke_token(session: Session, actor: Caller, token_id: str, *,
                 now: datetime) -> api_tokens.TokenInfo:
    info = api_tokens.revoke(session, token_id, now=now)
    record(session, actor=actor.name, action=Action.ACCOUNT_TOKEN_REVOKE,
           detail={"id": token_id})
    return info


def require_user(session: Session, name: str) -> User:
    user = users.by_name(session, name)
    if user is None:
        raise NotFound(f"no user named {name}", hint="`ws user list` shows the accounts")
    return user


def as_dict(account: Account) -> dict[str, Any]:
    return {"name": account.name, "uid": account.uid, "robot": account.robot,
            "disabled": account.disabled, "created_at": account.created_at}


def _unix_uid(name: str) -> int:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        raise InvalidInput(f"there is no Unix user {name} on this server",
                           hint="create the Unix account first, or pass --robot for an "
                           "account that authenticates with API tokens only") from None


def _account(user: User) -> Account:
    return Account(user.name, user.uid, user.is_robot, user.disabled, user.created_at)

"""Accounts: users, passwords, password login (JWT), API tokens.

Login is the only public route: it is how a remote client gets an identity.
Its failures are audited and throttled per name and client address
(auth/throttle.py), with one error for an unknown name and a wrong password.
The services record the audit events; these routes only translate HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from workspace.api.authz import authenticated, public, require
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep, login_client
from workspace.api.resources import ADMIN_USERS, admin, self_or_admin, token_owner
from workspace.api.schemas import Body, encode
from workspace.auth import accounts, api_tokens, authenticate, throttle, tokens
from workspace.errors import AuthenticationRequired

router = APIRouter()


class NewUserBody(Body):
    name: str = Field(max_length=64)
    robot: bool = False


class NameBody(Body):
    name: str = Field(max_length=64)


class PasswordBody(Body):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class LoginBody(Body):
    name: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)


class NewTokenBody(Body):
    user: str = Field(max_length=64)
    name: str = Field(max_length=100)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class TokenIdBody(Body):
    id: str = Field(max_length=64)


@router.get("/users", dependencies=[require(admin(ADMIN_USERS))])
def list_users(ctx: ContextDep) -> Any:
    with ctx.db.read() as session:
        return encode({"users": [accounts.as_dict(a) for a in accounts.list_users(session)]})


@router.post("/users", status_code=201, dependencies=[require(admin(ADMIN_USERS))])
def add_user(body: NewUserBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        account = accounts.add_user(session, caller, body.name, robot=body.robot)
        return encode({"user": accounts.as_dict(account)}, status_code=201)


@router.post("/users/disable", dependencies=[require(admin(ADMIN_USERS))])
def disable_user(body: NameBody, request: Request, caller: CallerDep, ctx: ContextDep,
                 access: AccessDep) -> Any:
    answer = _set_disabled(ctx, access, caller, body.name, True)
    request.app.state.callers.clear()  # a disabled account stops working now, not in 2 s
    return answer


@router.post("/users/enable", dependencies=[require(admin(ADMIN_USERS))])
def enable_user(body: NameBody, caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    return _set_disabled(ctx, access, caller, body.name, False)


@router.post("/users/unlock", dependencies=[require(admin(ADMIN_USERS))])
def unlock_user(body: NameBody, caller: CallerDep, ctx: ContextDep) -> Any:
    """Forget the failed logins of a name, from every address (locks and back-off)."""
    with ctx.db.write() as session:
        had_failures, addresses = accounts.unlock(session, caller, body.name)
    return {"user": body.name, "unlocked": had_failures, "addresses": addresses}


@router.post("/users/password", dependencies=[require(self_or_admin("name"))])
def set_password(body: PasswordBody, caller: CallerDep, ctx: ContextDep,
                 access: AccessDep) -> Any:
    with ctx.db.read() as session:
        user = accounts.require_user(session, body.name)
    authenticate.set_password(ctx.db, access.require_hasher(), actor=caller.name,
                              user_id=user.id, password=body.password, now=datetime.now(UTC))
    return {"user": body.name, "password": "set"}


@router.post("/login", dependencies=[public()])
def login(body: LoginBody, request: Request, ctx: ContextDep, access: AccessDep,
          settings: SettingsDep) -> Any:
    keys, hasher = access.require_keys(), access.require_hasher()
    policy = throttle.ThrottlePolicy(base=timedelta(seconds=settings.login_backoff_base))
    caller = authenticate.login(ctx.db, hasher, body.name, body.password,
                                client=login_client(request), now=datetime.now(UTC),
                                refusals=access.refusals, policy=policy)
    issued = tokens.issue(keys, user_id=caller.user_id, ttl=timedelta(minutes=body.ttl_minutes))
    return encode({"token": issued.token, "expires_at": issued.expires_at, "user": caller.name})


@router.post("/logout", dependencies=[authenticated()])
def logout(request: Request, caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    token = _bearer(request)
    if token is None or api_tokens.looks_like(token):
        raise AuthenticationRequired("logout ends a login session (a JWT); none was sent",
                                     hint="revoke API tokens with `ws token revoke ID`")
    with ctx.db.write() as session:
        tokens.revoke(session, access.require_keys(), token)
    return {"user": caller.name, "logged_out": True}


@router.post("/tokens", status_code=201, dependencies=[require(self_or_admin("user"))])
def create_token(body: NewTokenBody, caller: CallerDep, ctx: ContextDep) -> Any:
    expires = timedelta(days=body.expires_days) if body.expires_days else None
    with ctx.db.write() as session:
        created = accounts.create_token(session, caller, body.user, body.name,
                                        expires_in=expires, now=datetime.now(UTC))
        return encode({"id": created.id, "token": created.token,
                       "expires_at": created.expires_at, "user": body.user}, status_code=201)


@router.get("/tokens", dependencies=[require(self_or_admin("user"))])
def list_tokens(ctx: ContextDep, user: str = Query(max_length=64)) -> Any:
    now = datetime.now(UTC)
    with ctx.db.read() as session:
        owner = accounts.require_user(session, user)
        infos = api_tokens.list_for(session, owner.id)
        return encode({"tokens": [_token(info, now) for info in infos]})


@router.post("/tokens/revoke", dependencies=[require(token_owner)])
def revoke_token(body: TokenIdBody, caller: CallerDep, ctx: ContextDep) -> Any:
    now = datetime.now(UTC)
    with ctx.db.write() as session:
        info = accounts.revoke_token(session, caller, body.id, now=now)
        return encode({"token": _token(info, now)})


def _set_disabled(ctx: Any, access: Any, caller: Any, name: str, disabled: bool) -> Any:
    with ctx.db.write() as session:
        account = accounts.set_disabled(
            session, caller, name, disabled,
            is_last_admin=lambda who: access.is_last_admin(session, who))
        return encode({"user": accounts.as_dict(account)}, status_code=201)


def _token(info: Any, now: datetime) -> dict[str, Any]:
    return {"id": info.id, "name": info.name, "created_at": info.created_at,
            "expires_at": info.expires_at, "last_used_at": info.last_used_at,
            "state": info.state(now)}


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None

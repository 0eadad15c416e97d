"""Request dependencies: the service context and the calling identity."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, cast

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from workspace.api import notices
from workspace.api.access import Access
from workspace.api.peercred import Peer, peer_from_state
from workspace.api.ttlcache import TtlCache
from workspace.auth import Caller, api_tokens, find_local, throttle
from workspace.auth.authenticate import authenticate_bearer
from workspace.auth.unix_groups import group_subjects
from workspace.config import Settings
from workspace.errors import AuthenticationRequired
from workspace.policy.admission import admit_local
from workspace.workspaces.context import ServiceContext


def get_context(request: Request) -> ServiceContext:
    return cast(ServiceContext, request.app.state.ctx)


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_access(request: Request) -> Access:
    return cast(Access, request.app.state.access)


async def get_caller(request: Request, ctx: Annotated[ServiceContext, Depends(get_context)],
                     settings: Annotated[Settings, Depends(get_settings)],
                     access: Annotated[Access, Depends(get_access)]) -> Caller:
    """Who is asking: the Unix socket peer's user, or the holder of a bearer token (TCP).

    A local peer's identity is remembered for ``CALLER_TTL`` seconds per peer
    credentials (pid, uid, gid and groups, as the kernel recorded them at
    connect; a CLI run makes several requests): disabling an account takes
    effect at once (the route clears the cache); role changes take effect at
    once (the policy).
    """
    peer = peer_from_state(request.state)
    if peer is None:
        bearer = await run_in_threadpool(_bearer_caller, request, ctx, access)
        await notices.attach(request, ctx, bearer)
        return bearer
    callers: TtlCache[Peer, Caller] = request.app.state.callers
    caller = callers.get(peer)
    if caller is None:
        caller = await run_in_threadpool(_local_caller, ctx, access, settings, peer)
        callers.put(peer, caller)
        await notices.attach(request, ctx, caller)  # once per peer process and TTL
    return caller


def _local_caller(ctx: ServiceContext, access: Access, settings: Settings, peer: Peer) -> Caller:
    with ctx.db.read() as session:
        caller = find_local(session, peer.uid)
    if caller is None:
        caller = _first_contact(ctx, access, settings, peer.uid)
    return replace(caller, groups=group_subjects(peer.gid, peer.groups))


def _first_contact(ctx: ServiceContext, access: Access, settings: Settings, uid: int) -> Caller:
    """An unknown (or disabled) local user: refused, unless auto-registration grants a
    default role; ``policy.admission`` decides and records either."""
    return admit_local(ctx.db, access.authorizer, uid,
                       auto_register_role=settings.auto_register_role,
                       refusals=access.refusals)


def _bearer_caller(request: Request, ctx: ServiceContext, access: Access) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or access.keys is None:
        raise AuthenticationRequired(
            "this request carries no identity",
            hint="on this machine use the Unix socket (`ws` does by default); "
            "remotely, `ws login --server URL` or an API token")
    now = datetime.now(UTC)
    with ctx.db.read() as session:
        bearer = authenticate_bearer(session, access.keys, token.strip(), now=now)
    if bearer.touch_due:
        with ctx.db.write() as session:
            api_tokens.touch(session, bearer.credential_id, now=now)
    return bearer.caller


ContextDep = Annotated[ServiceContext, Depends(get_context)]
AccessDep = Annotated[Access, Depends(get_access)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CallerDep = Annotated[Caller, Depends(get_caller)]


def login_client(request: Request) -> str:
    """The login throttle's key for where a request comes from: the TCP peer's address,
    or the Unix socket peer's uid (a local user guessing another's password)."""
    peer = peer_from_state(request.state)
    host = request.client.host if request.client is not None else None
    return throttle.client_key(host, peer_uid=None if peer is None else peer.uid)

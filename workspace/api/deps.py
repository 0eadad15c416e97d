"""Request dependencies: the service context and the calling identity."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, cast

from fastapi import Depends, Request

from workspace.api.peercred import peer_from_state
from workspace.auth import Caller, find_local, resolve_local
from workspace.auth.unix_groups import peer_groups
from workspace.config import Settings
from workspace.errors import AuthenticationRequired
from workspace.workspaces.context import ServiceContext


def get_context(request: Request) -> ServiceContext:
    return cast(ServiceContext, request.app.state.ctx)


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_caller(request: Request, ctx: Annotated[ServiceContext, Depends(get_context)],
               settings: Annotated[Settings, Depends(get_settings)]) -> Caller:
    """The local peer's user; TCP requests have no identity until token login exists."""
    peer = peer_from_state(request.state)
    if peer is None:
        raise AuthenticationRequired(
            "this request carries no identity",
            hint="use the local Unix socket (`ws` does by default); "
            "remote access needs a login token")
    with ctx.db.read() as session:
        caller = find_local(session, peer.uid)
    if caller is None:
        with ctx.db.write() as session:  # first contact: may register the user
            caller = resolve_local(session, peer.uid, auto_register=settings.auto_register)
    return replace(caller, groups=peer_groups(peer.pid, peer.uid, peer.gid))


ContextDep = Annotated[ServiceContext, Depends(get_context)]
CallerDep = Annotated[Caller, Depends(get_caller)]

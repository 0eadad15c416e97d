"""Authorization in one place: every route declares what it needs, one dependency decides.

A route lists exactly one requirement in its ``dependencies``:

- ``require(resolver)``: the resolver turns the request into (action, resource)
  checks, e.g. ("write", "vision/cats"); each must be allowed by the policy
  (``require_unless`` adds one exemption that needs no identity: ``/metrics``);
- ``authenticated()``: any known, enabled user (their own workspaces, health);
- ``public()``: no identity needed (password login).

``tests/api/test_route_coverage.py`` fails when a route has none, so a new
route cannot ship without an authorization decision; the dashboard's pages
(``workspace/web/``) declare theirs the same way. A denial is recorded in the
audit log (by ``policy.audited.permitted``, which decides) and answered with
403; every decision is counted in the metrics.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from workspace.api.access import Access
from workspace.api.deps import get_access, get_caller, get_context, get_settings
from workspace.auth import Caller
from workspace.config import Settings
from workspace.errors import PermissionDenied
from workspace.metrics import Metrics
from workspace.policy import Authorizer
from workspace.policy.audited import HOLDS, permitted
from workspace.workspaces.context import ServiceContext

Check = tuple[str, str]  # (action, resource), or ("holds:ROLE", pattern)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a resolver may look at: the caller, the query, the JSON body, the services."""

    caller: Caller
    query: dict[str, str]
    body: dict[str, Any]
    ctx: ServiceContext
    access: Access


Resolver = Callable[[Facts], Sequence[Check]]


@dataclass(frozen=True, slots=True)
class Requirement:
    """The marker the route-coverage test looks for."""

    kind: str  # "policy" | "authenticated" | "public"
    name: str


def require(resolver: Resolver) -> Any:
    async def authorize(request: Request, caller: Caller = Depends(get_caller),
                        ctx: ServiceContext = Depends(get_context),
                        access: Access = Depends(get_access)) -> Caller:
        facts = Facts(caller, dict(request.query_params), await _json_body(request), ctx,
                      access)
        await _authorize(request, facts, resolver)
        return caller

    return _marked(authorize, Requirement("policy", resolver.__name__))


def require_unless(exempt: Callable[[Request], bool], resolver: Resolver) -> Any:
    """``require(resolver)``, except that a request ``exempt`` lets through needs no
    identity at all (``/metrics`` from the loopback address, when a setting allows it)."""
    async def authorize(request: Request, ctx: ServiceContext = Depends(get_context),
                        settings: Settings = Depends(get_settings),
                        access: Access = Depends(get_access)) -> None:
        if exempt(request):
            return
        caller = await get_caller(request, ctx, settings, access)
        await _authorize(request, Facts(caller, dict(request.query_params), {}, ctx, access),
                         resolver)

    return _marked(authorize, Requirement("policy", f"{resolver.__name__}, unless "
                                                    f"{exempt.__name__}"))


def authenticated() -> Any:
    async def known_user(caller: Caller = Depends(get_caller)) -> Caller:
        return caller

    return _marked(known_user, Requirement("authenticated", "any known user"))


def public() -> Any:
    async def anyone() -> None:
        return None

    return _marked(anyone, Requirement("public", "no identity needed"))


def _marked(dependency: Callable[..., Awaitable[Any]], requirement: Requirement) -> Any:
    dependency.requirement = requirement  # type: ignore[attr-defined]
    return Depends(dependency)


async def _authorize(request: Request, facts: Facts, resolver: Resolver) -> None:
    """Decide (from memory when it can), and count the decision for the metrics."""
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    try:
        if not (getattr(resolver, "pure", False) and _known_allowed(facts, resolver)):
            await run_in_threadpool(_decide, facts, resolver)
    except PermissionDenied:
        if metrics is not None:
            metrics.authorization(allowed=False)
        raise
    if metrics is not None:
        metrics.authorization(allowed=True)


def _known_allowed(facts: Facts, resolver: Resolver) -> bool:
    """All checks already decided "allowed" in memory: no thread hop, no database.

    Only for resolvers marked ``pure`` (they read the request, not the database);
    anything unknown, due for a policy poll, or denied goes the full way.
    """
    authorizer = facts.access.authorizer
    for action, resource in resolver(facts):
        if action.startswith(HOLDS):
            return False
        decision = authorizer.cached(facts.caller.name, facts.caller.groups, resource, action)
        if decision is None or not decision.allowed:
            return False
    return True


def _decide(facts: Facts, resolver: Resolver) -> None:
    authorizer = facts.access.authorizer
    for action, resource in resolver(facts):
        if not permitted(facts.ctx.db, authorizer, facts.caller, action, resource):
            raise PermissionDenied(
                _denial(facts.caller.name, action, resource),
                hint=denial_hint(facts, authorizer),
                details={"action": action, "resource": resource})


def readable(caller: Caller, access: Access) -> Callable[[str], bool]:
    """A filter for listings: may ``caller`` read this dataset?"""
    authorizer = access.authorizer
    return lambda name: authorizer.check(caller.name, caller.groups, name, "read").allowed


def denial_hint(facts: Facts, authorizer: Authorizer) -> str:
    """Whom to ask, by name (as the refusal of an unknown Unix user does), and what to ask."""
    with facts.ctx.db.read() as session:
        admins = authorizer.admins(session)
    ask = f"an admin ({', '.join(admins)})" if admins else "an admin of this server"
    return (f"ask {ask} to grant you a role on it: "
            f"`ws role grant {facts.caller.name} ROLE PATTERN`")


def _denial(name: str, action: str, resource: str) -> str:
    if action.startswith(HOLDS):
        return f"{name} does not hold {action[len(HOLDS):]} on {resource}"
    return f"{name} may not {action} {resource}"


async def _json_body(request: Request) -> dict[str, Any]:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return {}
    try:
        body = await request.json()
    except ValueError:
        return {}  # the route's own validation reports the malformed body
    return body if isinstance(body, dict) else {}

"""Admin pages: users with their roles, and the policy rules in force."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from workspace.api.access import Access
from workspace.api.authz import require
from workspace.api.deps import AccessDep, ContextDep
from workspace.api.resources import ADMIN_POLICY, ADMIN_USERS, admin
from workspace.auth import accounts
from workspace.policy import Rule
from workspace.web.render import page

router = APIRouter()


@router.get("/admin/users", dependencies=[require(admin(ADMIN_USERS))])
def users(request: Request, ctx: ContextDep, access: AccessDep) -> HTMLResponse:
    with ctx.db.read() as session:
        found = accounts.list_users(session)
    roles: dict[str, list[Rule]] = {}
    for rule in _rules(access):
        if rule.ptype == "g":
            roles.setdefault(rule.values[0], []).append(rule)
    return page(request, "users.html", {"users": found, "roles": roles})


@router.get("/admin/policy", dependencies=[require(admin(ADMIN_POLICY))])
def policy(request: Request, access: AccessDep) -> HTMLResponse:
    rules = _rules(access)
    return page(request, "policy.html", {
        "grants": [r for r in rules if r.ptype == "g"],
        "permissions": [r for r in rules if r.ptype == "p"]})


def _rules(access: Access) -> list[Rule]:
    return access.authorizer.list_rules() if access.authorizer is not None else []

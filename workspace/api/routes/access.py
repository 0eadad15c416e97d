"""Roles and policy: grant, revoke, list, and ask "may X do Y on Z, and which rule says so".

Granting needs holding ``maintainer`` on the pattern *and* the role granted
there (nobody hands out more than they have; see ``resources.grant_scope``);
admins hold everything.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field

from workspace.api.access import Access
from workspace.api.authz import require
from workspace.api.deps import AccessDep, CallerDep, ContextDep
from workspace.api.resources import ADMIN_POLICY, admin, grant_scope, policy_query_scope
from workspace.api.schemas import Body, encode
from workspace.audit import Action, record
from workspace.errors import WorkspaceError

router = APIRouter()


class GrantBody(Body):
    subject: str = Field(max_length=100)
    role: str = Field(max_length=50)
    pattern: str = Field(max_length=200)


@router.post("/roles/grant", dependencies=[require(grant_scope)])
def grant(body: GrantBody, caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    authorizer = _authorizer(access)
    with ctx.db.write() as session:
        added = authorizer.grant_role(session, body.subject, body.role, body.pattern)
        record(session, actor=caller.name, action=Action.POLICY_ROLE_GRANT,
               detail={"subject": body.subject, "role": body.role, "pattern": body.pattern,
                       "new": added})
    return {"subject": body.subject, "role": body.role, "pattern": body.pattern, "added": added}


@router.post("/roles/revoke", dependencies=[require(grant_scope)])
def revoke(body: GrantBody, caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    authorizer = _authorizer(access)
    with ctx.db.write() as session:
        authorizer.revoke_role(session, body.subject, body.role, body.pattern)
        record(session, actor=caller.name, action=Action.POLICY_ROLE_REVOKE,
               detail={"subject": body.subject, "role": body.role, "pattern": body.pattern})
    return {"subject": body.subject, "role": body.role, "pattern": body.pattern,
            "revoked": True}


@router.get("/roles", dependencies=[require(policy_query_scope)])
def roles(access: AccessDep, subject: str | None = Query(default=None, max_length=100)) -> Any:
    rules = [r for r in _authorizer(access).list_rules() if r.ptype == "g"]
    if subject is not None:
        rules = [r for r in rules if r.values[0] == subject]
    return {"assignments": [{"subject": r.values[0], "role": r.values[1],
                             "pattern": r.values[2], "source": r.source} for r in rules]}


@router.get("/policy", dependencies=[require(admin(ADMIN_POLICY))])
def list_policy(access: AccessDep) -> Any:
    return {"rules": [_rule(r) for r in _authorizer(access).list_rules()]}


@router.get("/policy/check", dependencies=[require(policy_query_scope)])
def check(access: AccessDep, subject: str = Query(max_length=100),
          resource: str = Query(max_length=200), action: str = Query(max_length=20)) -> Any:
    decision = _authorizer(access).check(subject, (), resource, action)
    return encode({"subject": subject, "resource": resource, "action": action,
                   "allowed": decision.allowed, "rule": decision.rule})


@router.get("/acl", dependencies=[require(admin(ADMIN_POLICY))])
def acl_status(ctx: ContextDep) -> Any:
    """`ws acl status`: how far the store's object ACLs are from the policy, and the queue."""
    return encode(ctx.acl.overview())


def _authorizer(access: Access) -> Any:
    if access.authorizer is None:
        raise WorkspaceError("this daemon runs without a policy engine")
    return access.authorizer


def _rule(rule: Any) -> dict[str, Any]:
    if rule.ptype == "g":
        return {"kind": "g", "subject": rule.values[0], "role": rule.values[1],
                "pattern": rule.values[2], "source": rule.source}
    return {"kind": "p", "subject": rule.values[0], "pattern": rule.values[1],
            "action": rule.values[2], "effect": rule.values[3], "source": rule.source}

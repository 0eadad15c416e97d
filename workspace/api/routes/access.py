"""Roles and policy: grant, revoke, list, and ask "may X do Y on Z, and which rule says so".

Granting needs holding ``maintainer`` on the pattern *and* the role granted
there (nobody hands out more than they have; see ``resources.grant_scope``);
admins hold everything.
"""

from __future__ import annotations

import grp
from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field
from sqlalchemy.orm import Session

from workspace.api.authz import require
from workspace.api.deps import AccessDep, CallerDep, ContextDep
from workspace.api.resources import ADMIN_POLICY, admin, grant_scope, policy_query_scope
from workspace.api.schemas import Body, encode
from workspace.db.queries import users
from workspace.policy import audited

router = APIRouter()
GROUP_PREFIX = "group:"


class GrantBody(Body):
    subject: str = Field(max_length=100)
    role: str = Field(max_length=50)
    pattern: str = Field(max_length=200)


@router.post("/roles/grant", dependencies=[require(grant_scope)])
def grant(body: GrantBody, caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    authorizer = access.authorizer
    with ctx.db.write() as session:
        added = audited.grant_role(session, authorizer, actor=caller.name,
                                   subject=body.subject, role=body.role, pattern=body.pattern)
    return {"subject": body.subject, "role": body.role, "pattern": body.pattern, "added": added}


@router.post("/roles/revoke", dependencies=[require(grant_scope)])
def revoke(body: GrantBody, caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    authorizer = access.authorizer
    with ctx.db.write() as session:
        audited.revoke_role(session, authorizer, actor=caller.name, subject=body.subject,
                            role=body.role, pattern=body.pattern)
    return {"subject": body.subject, "role": body.role, "pattern": body.pattern,
            "revoked": True}


@router.get("/roles", dependencies=[require(policy_query_scope)])
def roles(access: AccessDep, subject: str | None = Query(default=None, max_length=100)) -> Any:
    rules = [r for r in access.authorizer.list_rules() if r.ptype == "g"]
    if subject is not None:
        rules = [r for r in rules if r.values[0] == subject]
    return {"assignments": [{"subject": r.values[0], "role": r.values[1],
                             "pattern": r.values[2], "source": r.source} for r in rules]}


@router.get("/policy", dependencies=[require(admin(ADMIN_POLICY))])
def list_policy(access: AccessDep) -> Any:
    return {"rules": [_rule(r) for r in access.authorizer.list_rules()]}


@router.get("/policy/check", dependencies=[require(policy_query_scope)])
def check(ctx: ContextDep, access: AccessDep, subject: str = Query(max_length=100),
          resource: str = Query(max_length=200), action: str = Query(max_length=20)) -> Any:
    """The decision, and whether the subject exists: rules may name anyone, so an unknown
    name is simply denied by default, which reads like a real denial unless said."""
    decision = access.authorizer.check(subject, (), resource, action)
    with ctx.db.read() as session:
        known = _known_subject(session, subject)
    return encode({"subject": subject, "resource": resource, "action": action,
                   "allowed": decision.allowed, "rule": decision.rule, "known": known})


def _known_subject(session: Session, subject: str) -> bool:
    """A workspace account, or ``group:NAME`` for a Unix group of the daemon's machine."""
    if subject.startswith(GROUP_PREFIX):
        try:
            grp.getgrnam(subject[len(GROUP_PREFIX):])
        except KeyError:
            return False
        return True
    return users.by_name(session, subject) is not None


def _rule(rule: Any) -> dict[str, Any]:
    if rule.ptype == "g":
        return {"kind": "g", "subject": rule.values[0], "role": rule.values[1],
                "pattern": rule.values[2], "source": rule.source}
    return {"kind": "p", "subject": rule.values[0], "pattern": rule.values[1],
            "action": rule.values[2], "effect": rule.values[3], "source": rule.source}

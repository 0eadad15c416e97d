"""Policy operations that leave an audit record, decided and recorded in one place.

Every path that grants or revokes a role, or refuses a request, goes through
these functions, so none can skip the event: the routes, the first admin at
start-up, and auto-registration on first contact all call them.

- ``permitted``: may the caller do it? A denial is recorded (its own
  transaction: the request fails, the record stays) before the answer.
- ``grant_role`` / ``revoke_role``: the rule change and its event, in the
  caller's transaction.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth.identity import Caller
from workspace.db import Database
from workspace.policy.authorizer import Authorizer

HOLDS = "holds:"
"""An action ``holds:ROLE`` on a pattern asks whether the caller holds ROLE on everything
the pattern names (for granting roles: nobody gives more than they have)."""


def permitted(db: Database, authorizer: Authorizer, caller: Caller, action: str,
              resource: str) -> bool:
    """Whether ``caller`` may do ``action`` on ``resource``; a "no" is in the audit log
    (``access:request:deny``) before this returns."""
    if action.startswith(HOLDS):
        allowed = authorizer.holds(caller.name, action[len(HOLDS):], resource, caller.groups)
    else:
        allowed = authorizer.check(caller.name, caller.groups, resource, action).allowed
    if not allowed:
        with db.write() as session:
            record(session, actor=caller.name, action=Action.ACCESS_REQUEST_DENY,
                   dataset=resource if "/" in resource or ":" not in resource else None,
                   detail={"action": action, "resource": resource})
    return allowed


def grant_role(session: Session, authorizer: Authorizer, *, actor: str, subject: str,
               role: str, pattern: str, reason: str | None = None) -> bool:
    """``subject`` holds ``role`` on ``pattern`` (False: it already did); recorded."""
    added = authorizer.grant_role(session, subject, role, pattern)
    detail: dict[str, object] = {"subject": subject, "role": role, "pattern": pattern,
                                 "new": added}
    if reason is not None:
        detail["reason"] = reason
    record(session, actor=actor, action=Action.POLICY_ROLE_GRANT, detail=detail)
    return added


def revoke_role(session: Session, authorizer: Authorizer, *, actor: str, subject: str,
                role: str, pattern: str) -> None:
    """Remove exactly that grant (``NotFound`` if absent); recorded."""
    authorizer.revoke_role(session, subject, role, pattern)
    record(session, actor=actor, action=Action.POLICY_ROLE_REVOKE,
           detail={"subject": subject, "role": role, "pattern": pattern})

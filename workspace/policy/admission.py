"""First contact of a local Unix user the daemon does not know (or has disabled).

Decided and recorded here, so that no path can skip the record:

- with ``auto_register_role`` set, an unknown user is registered
  (``account:user:register``) and granted that role on ``*``
  (``policy:role:grant``, reason ``auto_register_role``), in one transaction;
- otherwise, and for a disabled account, the request is refused, and the
  refusal is an ``access:user:refuse`` event and a line in the daemon log.
  Anyone with a shell can send refused requests as fast as they like, so
  refusals are aggregated per (uid, reason) and window (``audit/aggregate``):
  the first one at once, then one event with the count.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workspace.audit import Action
from workspace.audit.aggregate import Tally
from workspace.auth.identity import UNKNOWN_USER, Caller, resolve_local, unix_name
from workspace.db import Database
from workspace.errors import PermissionDenied
from workspace.policy.audited import grant_role
from workspace.policy.authorizer import Authorizer

EVERYTHING = "*"


def admit_local(db: Database, authorizer: Authorizer, uid: int, *,
                auto_register_role: str | None, refusals: Tally) -> Caller:
    """The caller for ``uid`` (registered now if auto-registration is on), or
    ``PermissionDenied``, recorded (aggregated) in the audit and daemon logs."""
    try:
        if auto_register_role is None:  # nothing to write unless refused
            with db.read() as session:
                return _resolve(session, authorizer, uid, None)
        with db.write() as session:
            return _resolve(session, authorizer, uid, auto_register_role)
    except PermissionDenied as refused:
        _record_refusal(db, refusals, uid, str(refused.details.get("reason", UNKNOWN_USER)))
        raise


def _resolve(session: Session, authorizer: Authorizer, uid: int, role: str | None) -> Caller:
    caller = resolve_local(session, uid, auto_register=role is not None,
                           admins=authorizer.admins(session))
    if role is not None:
        grant_role(session, authorizer, actor=caller.name, subject=caller.name, role=role,
                   pattern=EVERYTHING, reason="auto_register_role")
    return caller


def _record_refusal(db: Database, refusals: Tally, uid: int, reason: str) -> None:
    name = unix_name(uid)
    why = "is not a workspace user" if reason == UNKNOWN_USER else "is disabled"
    refusals.note(db, (uid, reason), actor=name[:64], action=Action.ACCESS_USER_REFUSE,
                  detail={"uid": uid, "reason": reason},
                  message=f"refused Unix user {name} (uid {uid}): {why}")

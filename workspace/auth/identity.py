"""Mapping a socket peer's uid to a workspace user.

The first admin is the Unix user who starts the daemon (``bootstrap_admin``).
Other local users are refused with the names of the admins to ask, unless
the admin enabled auto-registration (setting ``auto_register_role``: such
users are registered on first contact and granted that role; the grant and
the audit record of a refusal are ``policy/admission.py``'s).
"""

from __future__ import annotations

import pwd
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.db.queries import users
from workspace.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated identity of one request; recorded on every audit event."""

    user_id: int
    name: str
    uid: int | None
    groups: tuple[str, ...] = ()  # policy subjects of the caller's Unix groups: "group:NAME"


def unix_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"


def bootstrap_admin(session: Session, uid: int) -> Caller:
    """Make sure the daemon's own Unix user exists and is an admin."""
    user = users.by_uid(session, uid)
    if user is None:
        user = users.create(session, name=unix_name(uid), uid=uid)
        record(session, actor=user.name, action=Action.ACCOUNT_USER_REGISTER,
               detail={"user": user.name, "uid": uid, "admin": True, "reason": "first start"})
    return Caller(user.id, user.name, user.uid)


def find_local(session: Session, uid: int) -> Caller | None:
    """The known, enabled user for ``uid``, without writing anything (the common case)."""
    user = users.by_uid(session, uid)
    if user is None or user.disabled:
        return None
    return Caller(user.id, user.name, user.uid)


UNKNOWN_USER = "unknown_user"
DISABLED = "disabled"


def resolve_local(session: Session, uid: int, *, auto_register: bool,
                  admins: Sequence[str] = ()) -> Caller:
    """The user of ``uid``, registered now if ``auto_register``; else ``PermissionDenied``
    whose ``details["reason"]`` is ``UNKNOWN_USER`` or ``DISABLED``."""
    user = users.by_uid(session, uid)
    if user is None:
        name = unix_name(uid)
        if not auto_register or users.by_name(session, name) is not None:
            ask = f"an admin ({', '.join(admins)})" if admins else "an admin of this server"
            raise PermissionDenied(
                f"Unix user {name} (uid {uid}) is not a workspace user",
                hint=f"ask {ask} to run `ws user add {name}` and grant you a role",
                details={"reason": UNKNOWN_USER})
        user = users.create(session, name=name, uid=uid)
        record(session, actor=name, action=Action.ACCOUNT_USER_REGISTER,
               detail={"user": name, "uid": uid, "admin": False, "reason": "auto-register"})
    if user.disabled:
        raise PermissionDenied(f"account {user.name} is disabled", hint="ask an admin",
                               details={"reason": DISABLED})
    return Caller(user.id, user.name, user.uid)

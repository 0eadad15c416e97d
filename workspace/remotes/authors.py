"""Who wrote a pulled version, on this server.

A remote records authors by name. A pulled version keeps its author's name:
the local account of that name when there is one (on a team sharing a remote,
one name is one person, as with git authors). A name unknown here becomes a
*history-only* account: a disabled robot with no Unix uid and no role, which
can never authenticate; it exists so that ``log`` and ``blame`` show the
original author. Its creation is audited with the puller as the actor.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.auth.accounts import validate_user_name
from workspace.db.queries import users


def local_ids(session: Session, names: Iterable[str], puller: Caller,
              origin: str) -> dict[str, int]:
    """name -> local user id for every author name, creating history-only accounts."""
    found: dict[str, int] = {}
    for name in sorted(set(names)):
        user = users.by_name(session, name)
        if user is None:
            validate_user_name(name)
            user = users.create(session, name=name, uid=None)
            user.is_robot = True
            user.disabled = True
            record(session, actor=puller.name, action=Action.ACCOUNT_USER_CREATE,
                   detail={"user": name, "uid": None, "robot": True, "disabled": True,
                           "reason": f"author of versions pulled from {origin}"})
        found[name] = user.id
    return found

"""Notices: messages for one user that the daemon hands over once, with their next request.

Something done *to* a user while they were away (an admin broke their lock)
should not wait for them to look for it. A notice is written in the
transaction of that change; the next request the user makes picks up their
pending notices (the API puts them in a response header, the CLI prints
them). Each is delivered at most once: marking it delivered is a conditional
update, so two requests at once cannot both hand it over.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workspace.db import Database
from workspace.db.base import utcnow
from workspace.db.queries import locks as q

MAX_PER_REQUEST = 20
"""More wait for the next request: a response header is no place for a long list."""


def notify(session: Session, user_id: int, message: str) -> None:
    """Queue ``message`` for ``user_id``, in the caller's transaction."""
    q.add_notice(session, user_id, message)


def take(db: Database, user_id: int) -> list[str]:
    """The user's pending notices, now marked delivered (a cheap read when there are none)."""
    with db.read() as session:
        if not q.pending_notices(session, user_id):
            return []
    with db.write() as session:
        taken = []
        for notice in q.pending_notices(session, user_id)[:MAX_PER_REQUEST]:
            if q.mark_delivered(session, [notice.id], utcnow()) == 1:
                taken.append(notice.message)
        return taken

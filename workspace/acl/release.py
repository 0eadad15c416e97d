"""Letting go: a workspace unregistered (`ws deinit`), a path untracked (`ws untrack`).

In the transaction that forgets the workspace or path, its private copies are
marked ``released`` and the user's holdings of datasets they no longer track
anywhere are marked ``drop`` (queued). Right after that commits, and before
the CLI takes the daemon's access to the directory back, the copies lose
their owner's entry; the worker then takes the user's entries off the
objects of dropped holdings (unless another holding still lets them read).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.acl.core import AclCore
from workspace.acl.evaluate import READ, group_id
from workspace.acl.states import DROP, Principal, group, user
from workspace.auth.identity import Caller
from workspace.db.models_acl import AclHolding, AclStore
from workspace.db.queries import acl as q
from workspace.posixacl import USER


def release(core: AclCore, session: Session, *, owner: Caller, root: str, prefix: str | None,
            datasets: Collection[str], reason: str, exclude_workspace: int | None = None,
            exclude_tracked: int | None = None) -> None:
    """Queue what a workspace (or one tracked path, ``prefix``) leaving takes away.

    Call with ``core.lock`` held, in the transaction that deletes the rows.
    """
    q.release(session, [c.id for c in q.copies_under(session, root, prefix)])
    if owner.uid is None:
        return
    still = q.tracked_datasets(session, owner.user_id, exclude_workspace=exclude_workspace,
                               exclude_tracked=exclude_tracked)
    for dataset in sorted(set(datasets) - still):
        row = q.holding(session, core.store_id, USER, owner.uid, dataset)
        if row is not None and row.state != DROP:
            q.mark(session, row, DROP, reason)


def notes(core: AclCore, caller: Caller, datasets: Collection[str]) -> dict[str, dict[str, Any]]:
    """For ``ws status``: may the caller still read each dataset, and ACL work in progress."""
    principals = [user(caller.uid)] if caller.uid is not None else []
    principals += [group(gid) for gid in (group_id(g) for g in caller.groups) if gid is not None]
    found: dict[str, dict[str, Any]] = {}
    with core.db.read() as session:
        for dataset in sorted(set(datasets)):
            note: dict[str, Any] = {
                "readable": bool(core.checker.check(caller.name, caller.groups, dataset,
                                                    READ).allowed)}
            work = [row for row in _holdings(session, core, principals, dataset) if row.dirty]
            if work:
                note["acl_pending"] = {"done": sum(r.done for r in work),
                                       "total": sum(r.total for r in work),
                                       "since": min(r.changed_at for r in work)}
            found[dataset] = note
    return found


def overview(core: AclCore) -> dict[str, Any]:
    """For ``ws acl status``: how far the store's ACLs are from the policy, and the queue."""
    with core.db.read() as session:
        store = session.get_one(AclStore, core.store_id)
        counts = q.counts(session, core.store_id)
        queue = [_queued(row) for row in q.dirty(session, core.store_id)]
    return {"mode": "service", "converted": store.converted,
            "policy_version": {"evaluated": store.evaluated_version,
                               "current": core.checker.version},
            "evaluated_at": store.evaluated_at, **counts, "queue": queue}


def _queued(row: AclHolding) -> dict[str, Any]:
    since: datetime = row.changed_at
    return {"principal": Principal(row.tag, row.ident).label(), "dataset": row.dataset,
            "state": row.state, "reason": row.reason, "done": row.done, "total": row.total,
            "since": since}


def _holdings(session: Session, core: AclCore, principals: list[Principal],
              dataset: str) -> list[AclHolding]:
    rows = (q.holding(session, core.store_id, p.tag, p.ident, dataset) for p in principals)
    return [row for row in rows if row is not None]

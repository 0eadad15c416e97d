"""The durable queue: holdings whose state changed, rewritten batch by batch, resumable.

A policy change, an account change or a workspace leaving marks holdings
``dirty`` in a committed transaction: that row *is* the queued work. The
worker takes the oldest dirty holding, rewrites the ACLs of its objects in
``batch_size`` batches in object-id order (each batch computed from the
index, see ``compute.py``), and records a cursor after each batch; a crash
resumes at the cursor (a batch redone is harmless: the same ACLs are written
again). Then its private copies, then it is settled (or deleted, for
``drop``) with one audit event saying for whom and how many objects.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from workspace.acl.copies import set_copies
from workspace.acl.core import AclCore, rewrite_objects
from workspace.acl.evaluate import Evaluator
from workspace.acl.states import DROP, Principal, allowed
from workspace.audit import Action, record
from workspace.db.models_acl import AclHolding, AclStore
from workspace.db.queries import acl as q
from workspace.posixacl import USER
from workspace.store.acl import NOBODY, Readers

log = logging.getLogger("workspace.acl")


def evaluate_if_due(core: AclCore, refresh_interval: float) -> int:
    """Re-evaluate every holding when the policy (or an account) changed, or periodically.

    Holdings whose state changed are marked dirty (queued); returns how many.
    """
    version = core.checker.version
    with core.db.read() as session:
        reason = _due(session.get_one(AclStore, core.store_id), version, refresh_interval)
    if reason is None:
        return 0
    with core.lock, core.db.write() as session:
        ev = Evaluator.load(core.checker, session)
        marked = 0
        for row in q.holdings(session, core.store_id):
            if row.state == DROP:
                continue
            state = ev.state(Principal(row.tag, row.ident), row.dataset)
            if state != row.state:
                q.mark(session, row, state, reason)
                marked += 1
        store = session.get_one(AclStore, core.store_id)
        store.evaluated_version, store.evaluated_at = version, datetime.now(UTC)
    if marked:
        log.info("%d holding(s) changed (%s): rewriting their ACLs", marked, reason)
    return marked


def next_batch(core: AclCore) -> bool:
    """Do one batch of the oldest queued holding; False when nothing is queued."""
    with core.lock:
        with core.db.read() as session:
            queued = q.dirty(session, core.store_id)
            if not queued:
                return False
            row = queued[0]
            oids = q.objects_after(session, row.id, row.cursor, core.batch_size)
        if oids:
            rewrite_objects(core, oids)
            with core.db.write() as session:
                q.progress(session, row.id, oids[-1], row.done + len(oids), row.generation)
            return True
        _finish(core, row)
        return True


def strip_released(core: AclCore) -> int:
    """Take the owner's entry off the copies of workspaces that were unregistered."""
    with core.lock:
        with core.db.read() as session:
            rows = list(q.released(session, core.store_id))
        if not rows:
            return 0
        set_copies(rows, {row.id: NOBODY for row in rows})
        with core.db.write() as session:
            q.delete_copies(session, [row.id for row in rows])
    return len(rows)


def heal_pending(core: AclCore) -> int:
    """Rewrite the objects whose rows were committed but whose entries may be missing."""
    with core.lock:
        with core.db.read() as session:
            oids = q.pending(session, core.store_id)
        for start in range(0, len(oids), core.batch_size):
            part = oids[start:start + core.batch_size]
            rewrite_objects(core, part)
            with core.db.write() as session:
                q.settle_all(session, core.store_id, part)
    return len(oids)


def _due(store: AclStore, version: int, refresh_interval: float) -> str | None:
    if store.evaluated_version is None:
        return "account"
    if store.evaluated_version != version:
        return "policy"
    evaluated = store.evaluated_at
    if evaluated is None or (datetime.now(UTC) - evaluated).total_seconds() >= refresh_interval:
        return "refresh"
    return None


def _finish(core: AclCore, row: AclHolding) -> None:
    """The objects are done: rewrite the copies, settle (or delete) the holding, audit."""
    with core.db.read() as session:
        copies = list(q.copies_of(session, row.id))
    owner = Readers(users=frozenset({row.ident}))  # copies are only ever a user's
    readers = owner if allowed(row.state) and row.tag == USER else NOBODY
    unreachable = set_copies(copies, {c.id: readers for c in copies})
    with core.db.write() as session:
        current = session.get(AclHolding, row.id)
        if current is None or current.generation != row.generation:
            return  # re-marked meanwhile: the queue picks it up again from the start
        q.delete_copies(session, unreachable)
        _audit(session, core, row, len(copies), len(unreachable))
        if row.state == DROP:
            q.delete_holding(session, row.id)
        else:
            current.dirty, current.cursor = False, None


def _audit(session: Session, core: AclCore, row: AclHolding, copies: int,
           unreachable: int) -> None:
    action = Action.ACL_OBJECTS_RESTORE if allowed(row.state) else Action.ACL_OBJECTS_REVOKE
    seconds = round(time.time() - row.changed_at.timestamp(), 3)
    record(session, actor=core.actor, action=action, dataset=row.dataset,
           detail={"principal": Principal(row.tag, row.ident).label(), "state": row.state,
                   "reason": row.reason, "objects": row.done, "copies": copies,
                   "unreachable": unreachable, "seconds": seconds})

"""Giving read: when the daemon links or copies objects for a caller (checkout, get, add, commit).

Runs after the route's policy check and *before* any link is made, so a user
never finds a link they cannot read, and a refusal (the ACL limit, a revoke
that landed meanwhile) leaves no link behind. Order: the holding and its
objects are committed as rows (``pending``), then each object's ACL gets the
caller's entry (read, add, write: only when missing), then the rows are
marked settled. A crash in between leaves pending rows, which the next start
rewrites from the index.

Which entry: ``user:UID`` when the caller may read the dataset on their own;
else ``group:GID`` for each of their Unix groups that may (so that removing
them from the group takes their read away at once, for new processes, and
one entry serves every member: the way past the ACL size limit).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Sequence
from typing import NamedTuple

from sqlalchemy.orm import Session

from workspace.acl.batching import GrantRequest
from workspace.acl.core import AclCore
from workspace.acl.evaluate import READ, Checker, Evaluator, group_id
from workspace.acl.states import Principal, allowed, group, masked, user
from workspace.auth.identity import Caller
from workspace.db.models_acl import AclHolding
from workspace.db.queries import acl as q
from workspace.errors import PermissionDenied
from workspace.store.acl import NOBODY, Readers


class Placed(NamedTuple):
    """A file the daemon put in a workspace: ``path`` relative to the workspace root."""

    path: str
    oid: str
    executable: bool
    stat: os.stat_result


def grant(core: AclCore, caller: Caller, dataset: str, oids: Collection[str]) -> None:
    """Let the caller (or their reading groups) read ``oids``; raises before any link is made.

    Grants that queue up behind the lock are done in one pass (``batching.py``)."""
    if caller.uid is None or not oids:
        return
    request = GrantRequest(caller.name, dataset, choose(core.checker, caller, dataset),
                           sorted(set(oids)))
    core.grants.run(core.lock, request, lambda batch: _grant_all(core, batch))


def choose(checker: Checker, caller: Caller, dataset: str) -> list[Principal]:
    assert caller.uid is not None
    if checker.check(caller.name, (), dataset, READ).allowed:
        return [user(caller.uid)]
    gids = {group_id(g) for g in caller.groups if checker.check(g, (), dataset, READ).allowed}
    found = [group(gid) for gid in sorted(gid for gid in gids if gid is not None)]
    return found or [user(caller.uid)]


def ensure_holding(session: Session, core: AclCore, principal: Principal, dataset: str,
                   ev: Evaluator, reason: str = "grant") -> AclHolding:
    """The principal's holding of ``dataset``, its state evaluated now (queued if it changed)."""
    state = ev.state(principal, dataset)
    row = q.holding(session, core.store_id, principal.tag, principal.ident, dataset)
    if row is None:
        return q.add_holding(session, core.store_id, principal.tag, principal.ident, dataset,
                             state)
    if row.state != state:
        q.mark(session, row, state, reason)
    return row


def track_copies(core: AclCore, caller: Caller, dataset: str, root: str, root_fd: int,
                 placed: Sequence[Placed]) -> None:
    """Record the private copies among ``placed`` (row first), then let their owner read them."""
    from workspace.acl.copies import set_copy_readers

    copies = [p for p in placed if is_copy(core, p)]
    if caller.uid is None or not copies:
        return
    with core.lock:
        with core.db.write() as session:
            row = ensure_holding(session, core, user(caller.uid), dataset,
                                 Evaluator.load(core.checker, session))
            q.record_copies(session, row.id, caller.uid, root, [
                q.CopyFile(p.path, p.executable, p.stat.st_dev, p.stat.st_ino) for p in copies])
        readers = Readers(users=frozenset({caller.uid})) if allowed(row.state) else NOBODY
        for p in copies:
            set_copy_readers(root_fd, p.path, (p.stat.st_dev, p.stat.st_ino), readers,
                             executable=p.executable)


def is_copy(core: AclCore, placed: Placed) -> bool:
    """The daemon's own single-link file that is not the object's inode: a private copy."""
    st = placed.stat
    if st.st_uid != os.geteuid() or st.st_nlink != 1 or not stat.S_ISREG(st.st_mode):
        return False
    obj = core.store.stat(placed.oid)
    return obj is None or (obj.st_dev, obj.st_ino) != (st.st_dev, st.st_ino)


def _grant_all(core: AclCore, batch: list[GrantRequest]) -> None:
    """Record every request's rows, add every live one's entries, settle; under the lock."""
    with core.db.write() as session:
        ev = Evaluator.load(core.checker, session)
        for request in batch:
            _record(session, core, ev, request)
    core.wake()  # a holding whose state changed has links to rewrite
    live = [r for r in batch if r.error is None]
    if not live:
        return
    stopped = core.store.add_readers_in_one_pass([(r.oids, r.readers) for r in live])
    for request, (oid, error) in zip(live, stopped, strict=True):
        request.stopped_at, request.error = oid, error
    _settle(core, live)


def _record(session: Session, core: AclCore, ev: Evaluator, request: GrantRequest) -> None:
    """The request's holdings (state evaluated now) and, if all may read, its object rows."""
    rows = [ensure_holding(session, core, p, request.dataset, ev) for p in request.principals]
    if not all(allowed(row.state) for row in rows):
        request.error = PermissionDenied(
            f"{request.caller} may no longer read {request.dataset}",
            hint="access changed while the request ran; ask an admin")
        return
    request.rows, request.readers = rows, _readers(request.principals, rows)
    request.new = {row.id: q.add_objects(session, row.id, request.oids) for row in rows}


def _readers(principals: list[Principal], rows: list[AclHolding]) -> Readers:
    blocked = frozenset().union(*(masked(r.state) for r in rows))
    return Readers(frozenset(p.ident for p in principals if not p.is_group),
                   frozenset(p.ident for p in principals if p.is_group), blocked)


def _settle(core: AclCore, requests: list[GrantRequest]) -> None:
    """Rows whose entry is set are settled; those past an AclFull are dropped."""
    with core.db.write() as session:
        for request in requests:
            done = request.settled()
            for holding_id, oids in request.new.items():
                q.settle(session, holding_id, [oid for oid in oids if oid in done])
                q.remove_objects(session, holding_id, [oid for oid in oids if oid not in done])

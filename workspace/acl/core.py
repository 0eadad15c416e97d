"""What every part of the object-ACL service shares: the store, the index, the lock.

**One lock.** Every write of an object's ACL, and every change of a holding's
state, happens under ``AclCore.lock``, and every ACL written is computed from
rows committed before the lock was taken. So two writers (a checkout granting
read, the background rewrite of a revoke) can never interleave into an ACL
that reflects neither. The lock is always taken before a database write
transaction, never inside one. Batches are small, so a checkout waits at most
one batch for a revoke in progress.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workspace.acl import compute
from workspace.acl.batching import GrantQueue
from workspace.acl.evaluate import Checker, Evaluator, UnixGroups
from workspace.auth.identity import unix_name
from workspace.db import Database
from workspace.db.queries import acl as q
from workspace.errors import AclFull
from workspace.store import ObjectStore
from workspace.store.acl import NOBODY

log = logging.getLogger("workspace.acl")


@dataclass
class AclCore:
    db: Database
    store: ObjectStore
    checker: Checker
    store_id: int
    batch_size: int = 1000
    lock: threading.RLock = field(default_factory=threading.RLock)
    grants: GrantQueue = field(default_factory=GrantQueue)
    """Grants waiting for ``lock``: done together by whoever gets it (``batching.py``)."""
    wake: Callable[[], None] = lambda: None
    actor: str = field(default_factory=lambda: unix_name(os.geteuid()))

    @classmethod
    def open(cls, db: Database, store: ObjectStore, checker: Checker, *,
             batch_size: int = 1000) -> AclCore:
        with db.write() as session:
            store_id = q.store_row(session, store.store_id).id
        return cls(db, store, checker, store_id, batch_size=batch_size)

    def evaluator(self) -> Evaluator:
        with self.db.read() as session:
            return Evaluator.load(self.checker, session)


def rewrite_objects(core: AclCore, oids: Sequence[str], groups: UnixGroups | None = None) -> int:
    """Give each object exactly the ACL its holdings call for; the caller holds ``core.lock``.

    Returns how many objects were written (an object no longer in the store
    is skipped). An ACL that cannot hold every reader (only possible through
    group masks; grants refuse before that) fails closed: nobody but the
    daemon reads that object, and the log says so.
    """
    with core.db.read() as session:
        claims = q.claims(session, core.store_id, oids)
    member = (groups or UnixGroups()).is_member
    written = 0
    for oid, readers in compute.readers_of(oids, claims, member).items():
        try:
            core.store.set_readers(oid, readers)
        except FileNotFoundError:
            continue
        except AclFull as exc:
            log.error("object %s: %s; nobody but the daemon may read it now", oid, exc.message)
            core.store.set_readers(oid, NOBODY)
        written += 1
    return written

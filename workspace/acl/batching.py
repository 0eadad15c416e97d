"""Grants that wait for the ACL lock are done together: one pass over their objects.

Every grant runs under ``AclCore.lock`` (``core.py``), so when eight users
check out the same dataset at once, seven wait while one reads and rewrites
10,000 ACLs, then the next reads and rewrites the same 10,000 again. Measured
(``bench/bench_multiuser.py``), those eight turns took 5.2 s of a 6.6 s run:
one core busy, the other mostly idle.

So a grant joins a queue, then takes the lock. Whoever gets the lock first
takes every request queued by then and does them together (group commit,
as a database does with its log):

* one write transaction records every request's holdings and object rows;
* one read-modify-write per object adds every waiting caller's entry at once
  (the union of their readers: the same ACL as their turns in a row would
  leave);
* one transaction settles the rows.

The others find their request done when they get the lock, and return (or
raise their own error). Each request keeps its own outcome: a caller whose
access changed meanwhile gets PermissionDenied; a caller whose entry does not
fit an object's ACL gets AclFull for that object, and only that caller's rows
from there on are dropped, exactly as when it ran alone. The lock's rule is
unchanged: each ACL written is computed from rows committed under it.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from workspace.acl.states import Principal
from workspace.db.models_acl import AclHolding
from workspace.store.acl import Readers


@dataclass(eq=False)
class GrantRequest:
    """One caller's grant: who reads (``principals``' tags and ids), what, and how it ended."""

    caller: str  # the caller's name, for their error message
    dataset: str
    principals: list[Principal]
    oids: list[str]  # sorted, no duplicates
    rows: list[AclHolding] = field(default_factory=list)
    readers: Readers = field(default_factory=Readers)
    new: dict[int, list[str]] = field(default_factory=dict)
    """Per holding id: the object rows this request added (pending until settled)."""
    stopped_at: str | None = None
    """The object whose ACL had no room for this caller: it and those after are dropped."""
    error: BaseException | None = None
    done: bool = False

    def settled(self) -> set[str]:
        """The objects that got this caller's entry."""
        if self.stopped_at is None:
            return set(self.oids)
        return set(self.oids[:bisect.bisect_left(self.oids, self.stopped_at)])


@dataclass
class GrantStats:
    """How grants were done: ``requests`` in ``passes`` (fewer passes: more were combined)."""

    requests: int = 0
    passes: int = 0


class GrantQueue:
    """The requests waiting for the ACL lock; see the module docstring."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: list[GrantRequest] = []
        self.stats = GrantStats()

    @property
    def waiting(self) -> int:
        with self._mutex:
            return len(self._waiting)

    def run(self, lock: contextlib.AbstractContextManager[object], request: GrantRequest,
            work: Callable[[list[GrantRequest]], None]) -> None:
        """Queue ``request``; under ``lock``, do every queued request with ``work`` unless a
        previous holder already did this one. Raises the request's own error."""
        with self._mutex:
            self._waiting.append(request)
        with lock:
            if not request.done:
                self._work_all(work)
        if request.error is not None:
            raise request.error

    def _work_all(self, work: Callable[[list[GrantRequest]], None]) -> None:
        with self._mutex:
            batch, self._waiting = self._waiting, []
        self.stats.requests += len(batch)
        self.stats.passes += 1
        try:
            work(batch)
        except BaseException as exc:  # the pass failed as a whole: every request with it
            for request in batch:
                if request.error is None and not request.done:
                    request.error = exc
            raise
        finally:
            for request in batch:
                request.done = True

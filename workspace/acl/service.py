"""The object-ACL service as the workspace services see it: ``KernelAcl`` or ``NoAcl``.

``ReadAccess`` is all that checkout, get, add, commit, status, ``deinit`` and
``untrack`` call. In service mode it is ``KernelAcl`` (the kernel enforces
read access, see ``workspace/acl/__init__.py``); a single-user daemon is its
own only user and gets ``NoAcl``, which does nothing on purpose: objects are
0444 there and nobody else is served. For gc and prune (``ws gc``/``ws
prune``), ``forget`` and ``rewrite`` are the two calls that keep ACLs right
when objects or versions go away.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from sqlalchemy.orm import Session

from workspace.acl import queue, release
from workspace.acl.core import AclCore, rewrite_objects
from workspace.acl.grants import Placed, grant, track_copies
from workspace.auth.identity import Caller
from workspace.db.queries import acl as q

__all__ = ["KernelAcl", "NoAcl", "Placed", "ReadAccess"]


class ReadAccess(Protocol):
    writes_rows: bool
    """Whether :meth:`grant` and :meth:`track_copies` write the database (in their own
    transactions): an add may then not hold the writer lock while it publishes
    (``workspaces/recording.py``)."""

    def grant(self, caller: Caller, dataset: str, oids: Collection[str]) -> None:
        """Before linking: let the caller read ``oids`` (raises AclFull, PermissionDenied)."""

    def track_copies(self, caller: Caller, dataset: str, root: str, root_fd: int,
                     placed: Callable[[], Sequence[Placed]]) -> None:
        """After linking: record the private copies among ``placed()`` and let their owner in.

        A callable: listing 10,000 placed files is wasted work in single-user mode."""

    def releasing(self) -> AbstractContextManager[None]:
        """Hold around the transaction that calls :meth:`release`."""

    def release(self, session: Session, *, owner: Caller, root: str, prefix: str | None,
                datasets: Collection[str], reason: str, exclude_workspace: int | None = None,
                exclude_tracked: int | None = None) -> None:
        """A workspace (or one tracked path) leaves: queue what that takes away."""

    def released(self) -> None:
        """After that commits: take the owner's entries off the released copies now."""

    def notes(self, caller: Caller, datasets: Collection[str]) -> dict[str, dict[str, Any]]:
        """Per dataset, for ``ws status``: still readable? ACL work pending?"""

    def overview(self) -> dict[str, Any]:
        """For ``ws acl status``."""


class NoAcl:
    """Single-user mode: objects are 0444 and the daemon is their only user; nothing to do."""

    writes_rows = False

    def grant(self, caller: Caller, dataset: str, oids: Collection[str]) -> None:
        return None

    def track_copies(self, caller: Caller, dataset: str, root: str, root_fd: int,
                     placed: Callable[[], Sequence[Placed]]) -> None:
        return None

    def releasing(self) -> AbstractContextManager[None]:
        return nullcontext()

    def release(self, session: Session, *, owner: Caller, root: str, prefix: str | None,
                datasets: Collection[str], reason: str, exclude_workspace: int | None = None,
                exclude_tracked: int | None = None) -> None:
        return None

    def released(self) -> None:
        return None

    def notes(self, caller: Caller, datasets: Collection[str]) -> dict[str, dict[str, Any]]:
        return {}

    def overview(self) -> dict[str, Any]:
        return {"mode": "single", "converted": False, "queue": []}


class KernelAcl:
    """Service mode: every object's ACL names exactly who may read it (see the package doc)."""

    writes_rows = True

    def __init__(self, core: AclCore) -> None:
        self.core = core

    def grant(self, caller: Caller, dataset: str, oids: Collection[str]) -> None:
        grant(self.core, caller, dataset, oids)

    def track_copies(self, caller: Caller, dataset: str, root: str, root_fd: int,
                     placed: Callable[[], Sequence[Placed]]) -> None:
        track_copies(self.core, caller, dataset, root, root_fd, placed())

    @contextmanager
    def releasing(self) -> Iterator[None]:
        with self.core.lock:
            yield

    def release(self, session: Session, *, owner: Caller, root: str, prefix: str | None,
                datasets: Collection[str], reason: str, exclude_workspace: int | None = None,
                exclude_tracked: int | None = None) -> None:
        release.release(self.core, session, owner=owner, root=root, prefix=prefix,
                        datasets=datasets, reason=reason, exclude_workspace=exclude_workspace,
                        exclude_tracked=exclude_tracked)

    def released(self) -> None:
        queue.strip_released(self.core)
        self.core.wake()

    def notes(self, caller: Caller, datasets: Collection[str]) -> dict[str, dict[str, Any]]:
        return release.notes(self.core, caller, datasets)

    def overview(self) -> dict[str, Any]:
        return release.overview(self.core)

    def forget(self, oids: Sequence[str], dataset: str | None = None) -> None:
        """gc/prune: these objects left the store (or ``dataset``): drop their rows, rewrite.

        Call after the versions are deleted and before (or instead of) unlinking
        the objects; the ACLs of objects still in the store are recomputed
        from what remains, so nobody keeps read through a pruned version.
        """
        with self.core.lock:
            with self.core.db.write() as session:
                q.forget_objects(session, self.core.store_id, oids, dataset)
            rewrite_objects(self.core, oids)

    def rewrite(self, oids: Sequence[str]) -> int:
        """Recompute who may read ``oids`` from the index and write it (fsck --repair, tests)."""
        with self.core.lock:
            return rewrite_objects(self.core, oids)

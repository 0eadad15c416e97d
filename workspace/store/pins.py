"""Pins: objects an operation trusts before any version names them, which gc must not take.

The window gc has to close (docs/design.md, "Garbage collection"): an add
finds that an object already exists, so it drops its own copy; gc, having
found the object unreferenced, unlinks it; the add then records a version
naming an object that is gone. So an operation *pins* every object id it
stages or deduplicates **before** it looks whether the object exists, and
keeps the pin until the version that references it has committed. Pinning
and looking happen under the object's fan-out lock, and gc re-checks the pin
under the same lock right before ``unlinkat``: either gc unlinks first and
the operation sees no object (and stores its own bytes), or the operation
pins first and gc skips the object.

A store is opened by one daemon at a time (its lock file), so these
in-memory pins cover every operation on it. Pins are counted: two operations
may pin the same object, and it stays pinned until both let go.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from types import TracebackType

FANOUTS = 256


class Pins:
    """The pins of one store, and its 256 fan-out locks (one per ``objects/ab/``)."""

    def __init__(self) -> None:
        self._locks = [threading.Lock() for _ in range(FANOUTS)]
        self._counts: dict[str, int] = {}
        self._guard = threading.Lock()

    def fanout_lock(self, oid_or_fanout: str) -> threading.Lock:
        """The lock of the fan-out directory holding ``oid`` (or named by two hex digits)."""
        return self._locks[int(oid_or_fanout[:2], 16)]

    def lease(self) -> PinLease:
        """A new, empty set of pins for one operation; release it when the operation ends."""
        return PinLease(self)

    def is_pinned(self, oid: str) -> bool:
        return oid in self._counts

    def count(self) -> int:
        """How many distinct objects are pinned now (for reports)."""
        return len(self._counts)

    def _add(self, oids: Iterable[str]) -> None:
        with self._guard:
            for oid in oids:
                self._counts[oid] = self._counts.get(oid, 0) + 1

    def _drop(self, oids: Iterable[str]) -> None:
        with self._guard:
            for oid in oids:
                left = self._counts.get(oid, 0) - 1
                if left > 0:
                    self._counts[oid] = left
                else:
                    self._counts.pop(oid, None)


class PinLease:
    """The pins of one operation. Use as a context manager, or call :meth:`release`."""

    def __init__(self, pins: Pins) -> None:
        self._pins = pins
        self.oids: set[str] = set()

    def pin(self, oid: str) -> None:
        """Pin ``oid`` (idempotent within the lease)."""
        if oid not in self.oids:
            self.oids.add(oid)
            self._pins._add((oid,))

    def pin_all(self, oids: Iterable[str]) -> None:
        new = [oid for oid in set(oids) if oid not in self.oids]
        self.oids.update(new)
        self._pins._add(new)

    def release(self) -> None:
        """Let every pin go; idempotent."""
        self._pins._drop(self.oids)
        self.oids = set()

    def __enter__(self) -> PinLease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

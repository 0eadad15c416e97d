"""The pins of one operation, from its first staged object until its version commits.

``store/pins.py`` keeps pins in memory, which covers every operation on a
store (one daemon opens a store). On PostgreSQL, where several daemons share
one database, the pins are also written as ``object_pins`` rows before the
batch publishes, so that gc in another daemon sees them too; the version's
transaction deletes them with the same commit that makes its entries visible,
and a daemon deletes its own leftovers (a crash) when it starts.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from workspace.db import Database
from workspace.db.queries import upkeep as q
from workspace.store import ObjectStore
from workspace.store.pins import PinLease


@dataclass
class OperationPins:
    """An operation's lease, and its database rows when the database is shared."""

    lease: PinLease
    holder: str
    db: Database
    _written: bool = field(default=False)

    def write_rows(self, oids: set[str]) -> None:
        """Make the pins visible to other daemons (PostgreSQL only), in a committed transaction."""
        if self.db.is_sqlite or not oids:
            return
        with self.db.write() as session:
            q.add_pins(session, self.holder, oids)
        self._written = True

    def settle(self, session: Session) -> None:
        """Drop the rows in the transaction that records the version (they commit together)."""
        if self._written:
            q.drop_pins(session, self.holder)
            self._written = False


@contextmanager
def pinning(db: Database, store: ObjectStore) -> Iterator[OperationPins]:
    """Pins for one operation; released (rows included) when the block ends, however it ends."""
    holder = f"{holder_prefix(store)}{secrets.token_hex(8)}"
    with store.pins.lease() as lease:
        pins = OperationPins(lease, holder, db)
        try:
            yield pins
        finally:
            if pins._written:
                with db.write() as session:
                    q.drop_pins(session, holder)


def holder_prefix(store: ObjectStore) -> str:
    """Pins rows of this store's daemon start with its store id."""
    return f"{store.store_id}:"


def clear_stale_rows(db: Database, store: ObjectStore) -> int:
    """At start: rows this store's daemon left when it crashed (only it writes them)."""
    if db.is_sqlite:
        return 0
    with db.write() as session:
        return q.drop_pins_of(session, holder_prefix(store))

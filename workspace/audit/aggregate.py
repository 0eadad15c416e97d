"""Floods of identical events, recorded as counts instead of one row each (or none).

Some events anyone can cause as fast as they can send requests: a Unix user
who is not a workspace user, refused on every request. Writing one audit row
per refusal would let them fill the log (and serialize every writer on
SQLite); writing none would hide them. So a ``Tally`` keeps, per key (e.g.
(uid, reason)), a window of ``window`` seconds:

- the first event of a window is written at once (``count`` 1), and logged;
- the ones after it within the window are only counted;
- when the window is over (``flush``, run by the daemon's maintenance thread
  every ``window`` seconds and at shutdown, or the next event of that key),
  one more event says how many there were (``count`` N, ``repeated``), and
  the daemon log says so too.

So N refusals in a burst leave two rows whose counts add up to N. Counts
not yet flushed live in memory: a crash loses at most one window's count
(never the first event of a window).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from workspace.audit.record import record
from workspace.audit.tags import Action
from workspace.db import Database

log = logging.getLogger("workspace.audit")
DEFAULT_WINDOW = timedelta(seconds=60)


@dataclass
class _Window:
    actor: str
    action: Action
    detail: dict[str, Any]
    message: str
    opened: datetime
    repeats: int = 0
    first_repeat: datetime | None = None
    last_repeat: datetime | None = None


class Tally:
    """One window per key; thread-safe; writes through the ``Database`` it is given."""

    def __init__(self, window: timedelta = DEFAULT_WINDOW) -> None:
        self.window = window
        self._open: dict[Hashable, _Window] = {}
        self._lock = threading.Lock()

    def note(self, db: Database, key: Hashable, *, actor: str, action: Action,
             detail: dict[str, Any], message: str, now: datetime | None = None) -> bool:
        """One more event of ``key``; True if it was written now (the first of a window)."""
        now = now or datetime.now(UTC)
        with self._lock:
            current = self._open.get(key)
            if current is not None and now - current.opened < self.window:
                current.repeats += 1
                current.first_repeat = current.first_repeat or now
                current.last_repeat = now
                return False
            self._open[key] = _Window(actor, action, detail, message, now)
        if current is not None:
            _write_repeats(db, current)
        _write(db, actor, action, {**detail, "count": 1, "first_at": _iso(now),
                                   "last_at": _iso(now)})
        log.warning("%s", message)
        return True

    def flush(self, db: Database, *, now: datetime | None = None,
              everything: bool = False) -> int:
        """Write the counts of windows that are over (all of them, at shutdown); how many
        events that wrote."""
        now = now or datetime.now(UTC)
        with self._lock:
            over = [key for key, found in self._open.items()
                    if everything or now - found.opened >= self.window]
            closed = [self._open.pop(key) for key in over]
        written = 0
        for found in closed:
            written += _write_repeats(db, found)
        return written


def _write_repeats(db: Database, found: _Window) -> int:
    if not found.repeats:
        return 0
    assert found.first_repeat is not None and found.last_repeat is not None
    _write(db, found.actor, found.action, {
        **found.detail, "count": found.repeats, "repeated": True,
        "first_at": _iso(found.first_repeat), "last_at": _iso(found.last_repeat)})
    log.warning("%s (%d more times between %s and %s)", found.message, found.repeats,
                _iso(found.first_repeat), _iso(found.last_repeat))
    return 1


def _write(db: Database, actor: str, action: Action, detail: dict[str, Any]) -> None:
    with db.write() as session:
        record(session, actor=actor, action=action, detail=detail)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")

"""Verifying the audit log: rehash the whole chain, then hold it against the checkpoints.

The walk reads events in id order in batches (keyset pagination, one short
read transaction each, Core rows), recomputes every hash and checks that each
event's ``prev_hash`` is the previous event's hash. The first event that
fails is named with why:

- ``edited``: its fields do not hash to its ``hash`` (changed, or forged with a wrong hash);
- ``deleted_before``: its ``prev_hash`` is no event's hash: the event before it was
  removed (or that event was edited and re-hashed);
- ``reordered``: its ``prev_hash`` is the hash of a *later* event;
- ``inserted``: its ``prev_hash`` is the hash of an event further back, so the events
  in between were inserted (the first of them is named);
- ``tail_cut``: a checkpoint names an event beyond the end of the chain;
- ``recomputed``: the chain links up, but a checkpointed event now has another hash
  (or is gone): the chain was rewritten from some earlier event on;
- ``no_checkpoint``: the chain links up, but the checkpoint file is missing,
  unreadable or empty while there are events: nothing outside the database
  vouches for the chain, so a cut tail or a recomputed chain would pass
  (``verify_log``; an admin's audited reset starts a new file).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workspace.audit.checkpoint_file import Checkpoint, CheckpointLog
from workspace.audit.record import GENESIS, link_hash
from workspace.db import Database
from workspace.db.queries import audit as queries
from workspace.errors import AuditTampered

BATCH = 20_000
_NEVER = 1 << 63  # no checkpoint left to pass


class Reason(StrEnum):
    EDITED = "edited"
    DELETED_BEFORE = "deleted_before"
    REORDERED = "reordered"
    INSERTED = "inserted"
    TAIL_CUT = "tail_cut"
    RECOMPUTED = "recomputed"
    NO_CHECKPOINT = "no_checkpoint"


@dataclass(frozen=True, slots=True)
class Break:
    """The first bad event, and why it is bad."""

    event_id: int
    reason: Reason
    message: str


@dataclass(slots=True)
class Report:
    events: int = 0
    head_id: int | None = None
    head_hash: str | None = None
    checkpoints: int = 0
    checked_checkpoints: int = 0
    last_checkpoint: Checkpoint | None = None
    problem: Break | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        last, problem = self.last_checkpoint, self.problem
        return {
            "ok": problem is None, "events": self.events,
            "head": None if self.head_id is None else {"id": self.head_id,
                                                       "hash": self.head_hash},
            "checkpoints": self.checkpoints, "checked_checkpoints": self.checked_checkpoints,
            "last_checkpoint": None if last is None else {
                "sequence": last.sequence, "hash": last.hash, "at": last.at},
            "problem": None if problem is None else {
                "event_id": problem.event_id, "reason": str(problem.reason),
                "message": problem.message},
            "seconds": round(self.seconds, 3),
        }


def verify(db: Database, checkpoints: Iterable[Checkpoint] = (), *,
           batch: int = BATCH) -> Report:
    """Walk the whole chain; the report's ``problem`` is the first bad event, or None."""
    started = time.perf_counter()
    walk = _Walk(db, _by_sequence(checkpoints))
    walk.run(batch)
    report = walk.report
    if report.problem is None:
        report.problem = walk.tail_problem()
    report.seconds = time.perf_counter() - started
    return report


def verify_log(db: Database, log: CheckpointLog, *, batch: int = BATCH) -> Report:
    """``verify`` against the checkpoint file, which must vouch for a non-empty chain."""
    report = verify(db, log.checkpoints, batch=batch)
    if report.problem is None and report.head_id is not None and not log.checkpoints:
        why = log.problem or "holds no checkpoint"
        report.problem = Break(report.head_id, Reason.NO_CHECKPOINT, (
            f"the checkpoint file {log.path} is {why} while the log has {report.events} "
            "events: nothing outside the database vouches for the chain, so a cut tail or a "
            "recomputed chain would go unnoticed"))
    return report


_TAMPERED_HINT = ("the trail from this event on cannot be trusted: compare with the checkpoint "
                  "file and the system log, and restore the database from a backup")
_NO_CHECKPOINT_HINT = ("compare the log with the system log's checkpoints (authpriv); if you "
                       "know why the file is gone (restored or moved audit_log_dir), an admin "
                       "can start a new one: `ws audit reset-checkpoints --reason TEXT` "
                       "(audited)")


def ensure_intact(report: Report) -> Report:
    """The report itself if the log is intact; otherwise `AuditTampered` naming the event."""
    problem = report.problem
    if problem is None:
        return report
    raise AuditTampered(
        f"the audit log was tampered with at event {problem.event_id} "
        f"({problem.reason}): {problem.message}",
        hint=_NO_CHECKPOINT_HINT if problem.reason is Reason.NO_CHECKPOINT else _TAMPERED_HINT,
        details=report.to_dict())


@dataclass
class _Walk:
    db: Database
    checkpoints: dict[int, list[Checkpoint]]
    report: Report = field(default_factory=Report)
    _pending: list[int] = field(default_factory=list)  # checkpoint sequences not yet passed

    def __post_init__(self) -> None:
        self._pending = sorted(self.checkpoints, reverse=True)
        self.report.checkpoints = sum(len(found) for found in self.checkpoints.values())
        every = [cp for found in self.checkpoints.values() for cp in found]
        self.report.last_checkpoint = max(every, key=lambda cp: cp.sequence, default=None)

    def run(self, batch: int) -> None:
        """Check batch after batch; the next one is read while this one is hashed (the
        database works without holding the GIL, so the two overlap)."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-verify") as reader:
            ahead = reader.submit(self._fetch, None, batch)
            while self.report.problem is None:
                rows = ahead.result()
                if not rows:
                    return
                ahead = reader.submit(self._fetch, rows[-1][0], batch)
                self.report.problem = self._check_rows(rows)

    def _fetch(self, after: int | None, batch: int) -> Sequence[Any]:
        with self.db.read() as session:
            return queries.chain_batch(session, after=after, limit=batch)

    def _check_rows(self, rows: Sequence[Any]) -> Break | None:
        """The hot loop (a million rows): one hash and two comparisons per row."""
        report, expected = self.report, self.report.head_hash or GENESIS
        base = report.events
        next_checkpoint = self._pending[-1] if self._pending else _NEVER
        for position, row in enumerate(rows):
            event_id, prev_hash, digest = row[0], row[1], row[2]
            report.events = base + position
            try:
                computed = link_hash(prev_hash, row[3:])
            except (TypeError, AttributeError):  # a hand-edited field of the wrong type
                computed = ""
            if computed != digest:
                return Break(event_id, Reason.EDITED, f"event {event_id}'s fields do not "
                             "match its hash: it was edited (or forged)")
            if prev_hash != expected:
                return self._broken_link(event_id, prev_hash)
            if event_id >= next_checkpoint:
                problem = self._passed_checkpoints(event_id, digest)
                if problem is not None:
                    return problem
                next_checkpoint = self._pending[-1] if self._pending else _NEVER
            expected = digest
        report.events = base + len(rows)
        report.head_id, report.head_hash = rows[-1][0], expected
        return None

    def _broken_link(self, event_id: int, prev_hash: str) -> Break:
        """Why the event does not follow the one before it: find what it does follow."""
        with self.db.read() as session:
            if prev_hash == GENESIS:
                return Break(event_id, Reason.INSERTED, f"event {event_id} starts a second chain "
                             "after the first one: it (or the events before it) was inserted")
            owner = queries.id_of_hash(session, prev_hash)
            if owner is None:
                return Break(event_id, Reason.DELETED_BEFORE, f"the event before event {event_id} "
                             "is missing: it was deleted (or edited and re-hashed)")
            if owner > event_id:
                return Break(event_id, Reason.REORDERED, f"event {event_id} follows event {owner}, "
                             "which comes after it: the events were reordered")
            first = queries.first_id_after(session, owner) or event_id
        return Break(first, Reason.INSERTED, f"event {event_id} follows event {owner}: "
                     f"the events from {first} up to {event_id} were inserted")

    def _passed_checkpoints(self, event_id: int, digest: str) -> Break | None:
        """Check every checkpoint up to ``event_id``; earlier ones must have been events too."""
        while self._pending and self._pending[-1] <= event_id:
            sequence = self._pending.pop()
            for checkpoint in self.checkpoints[sequence]:
                self.report.checked_checkpoints += 1
                if sequence < event_id:
                    return Break(sequence, Reason.RECOMPUTED, f"event {sequence}, recorded by "
                                 f"the checkpoint of {checkpoint.at}, is gone and the chain "
                                 "was relinked without it")
                if checkpoint.hash != digest:
                    return Break(sequence, Reason.RECOMPUTED, f"event {sequence}'s hash differs "
                                 f"from the checkpoint of {checkpoint.at}: the chain was "
                                 "recomputed after an edit at or before it")
        return None

    def tail_problem(self) -> Break | None:
        """A checkpoint beyond the last event means the tail was cut off."""
        if not self._pending:
            return None
        sequence = self._pending[-1]  # the first checkpointed event that is missing
        checkpoint = self.checkpoints[sequence][0]
        head = self.report.head_id
        ends = "the log is empty" if head is None else f"the chain ends at event {head}"
        return Break(sequence, Reason.TAIL_CUT, f"{ends}, but the checkpoint of "
                     f"{checkpoint.at} recorded event {sequence}: the events after "
                     f"{head or 0} were removed")


def _by_sequence(checkpoints: Iterable[Checkpoint]) -> dict[int, list[Checkpoint]]:
    found: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        found.setdefault(checkpoint.sequence, []).append(checkpoint)
    return found

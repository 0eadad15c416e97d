"""Periodic work of a running daemon, on one background thread.

Each ``Job`` runs every ``every`` seconds (the first time ``every`` seconds
after start), and its ``final`` step, if any, when the daemon stops. A job that
fails is logged and tried again at its next turn; it never stops the others.
The jobs: pruning stale credential rows (``auth/pruning.py``) and writing
the aggregated refusal events (``audit/aggregate.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from workspace.audit.aggregate import Tally
from workspace.auth import pruning
from workspace.config import Settings
from workspace.db import Database

log = logging.getLogger("workspace.daemon")


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: float
    run: Callable[[], None]
    final: Callable[[], None] | None = None


class Maintenance:
    def __init__(self, jobs: Sequence[Job]) -> None:
        self.jobs = list(jobs)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="maintenance", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for job in self.jobs:
            if job.final is not None:
                _run(job.name, job.final, job.every)

    def _loop(self) -> None:
        due = {job.name: time.monotonic() + job.every for job in self.jobs}
        while self.jobs:
            wait = max(0.0, min(due.values()) - time.monotonic())
            if self._stop.wait(wait):
                return
            for job in self.jobs:
                if due[job.name] <= time.monotonic():
                    _run(job.name, job.run, job.every)
                    due[job.name] = time.monotonic() + job.every


def _run(name: str, step: Callable[[], None], every: float) -> None:
    try:
        step()
    except Exception:  # one failed turn is logged; the job runs again next time
        log.exception("maintenance job %s failed (it runs again in %s s)", name, every)


@contextmanager
def maintaining(jobs: Sequence[Job]) -> Iterator[Maintenance]:
    maintenance = Maintenance(jobs)
    maintenance.start()
    try:
        yield maintenance
    finally:
        maintenance.stop()


def prune_job(settings: Settings, db: Database) -> Job:
    def run() -> None:
        with db.write() as session:
            pruned = pruning.prune(session, now=datetime.now(UTC))
        if pruned:
            log.info("pruned %d login-throttle rows, %d expired JWT revocations, %d ended "
                     "API tokens", pruned.throttle_rows, pruned.revoked_jwts, pruned.api_tokens)

    return Job("prune credentials", settings.prune_interval, run)


def refusals_job(settings: Settings, db: Database, refusals: Tally) -> Job:
    """Write the counts of aggregated refusals once their window is over (all at exit)."""
    return Job("flush refusal counts", settings.audit_refusal_window,
               run=lambda: _flush(refusals, db, everything=False),
               final=lambda: _flush(refusals, db, everything=True))


def _flush(refusals: Tally, db: Database, *, everything: bool) -> None:
    refusals.flush(db, everything=everything)

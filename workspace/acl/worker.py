"""The background thread that keeps object ACLs following the policy.

Every ``poll_interval`` (and at once when woken: a grant changed a holding's
state, a workspace left) it re-evaluates the holdings if the policy version
moved, an account changed or ``refresh_interval`` passed, then works through
the queue batch by batch, then strips released copies. A revoke therefore
starts within ``poll_interval`` of the policy change committing (the
``ws role revoke`` command has already returned) and ends when its last batch
is written. An error is logged and retried at the next tick: the queue is in
the database, so nothing is lost.
"""

from __future__ import annotations

import logging
import threading

from workspace.acl import queue
from workspace.acl.core import AclCore

log = logging.getLogger("workspace.acl")


class AclWorker:
    def __init__(self, core: AclCore, *, poll_interval: float, refresh_interval: float) -> None:
        self._core = core
        self._poll = poll_interval
        self._refresh = refresh_interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="acl-worker", daemon=True)
        core.wake = self.wake

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def close(self) -> None:
        """Stop after the batch in progress (the rest resumes at the next start)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("object ACL work failed; retrying")
            self._wake.wait(self._poll)
            self._wake.clear()

    def _tick(self) -> None:
        queue.evaluate_if_due(self._core, self._refresh)
        while not self._stop.is_set() and queue.next_batch(self._core):
            pass
        queue.strip_released(self._core)

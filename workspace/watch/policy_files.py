"""Watching the policy directory: an edited ``model.conf`` or ``policy.csv`` takes effect.

Each burst of events (editors write, rename, chmod) is settled for a moment,
then both files are read and validated as a whole. A broken file is rejected
with a log line and the old policy stays in force; a valid one is stored in
the database (so every daemon sharing it reloads) in one transaction, which
also runs ``on_change`` once per changed file, carrying the file owner's uid,
so the caller can record the audit event atomically with the change.
Events are only a hint to look: what is applied is what the files say. An
``Observer`` handler is never told when the inotify queue overflows, so the
worker also compares the files' stat signature every ``rescan`` seconds and
reconciles when it moved without an event.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from workspace.errors import InvalidInput, WorkspaceError
from workspace.policy import POLICY_FILES, Authorizer, PolicyFiles, read_policy_dir

log = logging.getLogger(__name__)

_CHANGES = frozenset({"modified", "created", "moved", "deleted", "closed"})


@dataclass(frozen=True, slots=True)
class PolicyFileEvent:
    """One applied or rejected policy file."""

    path: Path
    owner_uid: int | None
    """Who owns the file now (None if it cannot be read): the actor of the change."""
    accepted: bool
    message: str


OnChange = Callable[[Session, PolicyFileEvent], None]
OnReject = Callable[[PolicyFileEvent], None]


class PolicyFileWatcher:
    """Applies valid edits of ``directory``'s policy files; ``start()``, then ``stop()``."""

    def __init__(
        self,
        directory: Path,
        authorizer: Authorizer,
        on_change: OnChange | None = None,
        *,
        on_reject: OnReject | None = None,
        settle: float = 0.2,
        rescan: float = 30.0,
    ) -> None:
        self.directory = Path(directory)
        self._authorizer = authorizer
        self._on_change = on_change
        self._on_reject = on_reject
        self._settle = settle
        self._rescan = rescan
        self._signature = self._stat_signature()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._last_event = 0.0
        self._observer: BaseObserver | None = None
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        """Apply files edited while nobody watched, then watch (non-recursively)."""
        if not self.directory.is_dir():
            raise InvalidInput(
                f"the policy directory {self.directory} does not exist",
                hint="create it with model.conf and policy.csv, or point the setting elsewhere",
            )
        self.reconcile(only_if_newer=True)
        observer = Observer()
        observer.schedule(_Handler(self._notice), str(self.directory), recursive=False)
        observer.daemon = True
        observer.start()
        self._observer = observer
        self._worker = threading.Thread(target=self._run, name="policy-files", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
        if self._worker is not None:
            self._worker.join(timeout=10)

    def reconcile(self, *, only_if_newer: bool = False) -> list[PolicyFileEvent]:
        """Read, validate and apply the files now; the events it produced."""
        self._signature = self._stat_signature()
        try:
            files = read_policy_dir(self.directory)
        except WorkspaceError as exc:
            return [self._reject(exc)]
        if only_if_newer and not self._authorizer.files_newer(files):
            return []
        try:
            return self._apply(files)
        except WorkspaceError as exc:
            return [self._reject(exc)]

    def _apply(self, files: PolicyFiles) -> list[PolicyFileEvent]:
        events: list[PolicyFileEvent] = []
        with self._authorizer.db.write() as session:
            for name in self._authorizer.apply_files(session, files):
                event = PolicyFileEvent(
                    files.directory / name,
                    files.owners[name],
                    True,
                    f"applied {files.directory / name}",
                )
                log.info(
                    "policy file %s changed (owner uid %s): applied", event.path, event.owner_uid
                )
                if self._on_change is not None:
                    self._on_change(session, event)
                events.append(event)
        return events

    def _reject(self, exc: WorkspaceError) -> PolicyFileEvent:
        path, owner = self._newest_file()
        event = PolicyFileEvent(path, owner, False, exc.message)
        log.error(
            "policy files in %s rejected, the old policy stays: %s", self.directory, exc.message
        )
        if self._on_reject is not None:
            self._on_reject(event)
        return event

    def _newest_file(self) -> tuple[Path, int | None]:
        """The most recently modified policy file: most likely the one just broken."""
        best: tuple[float, Path, int | None] = (-1.0, self.directory / POLICY_FILES[-1], None)
        for name in POLICY_FILES:
            try:
                stat = os.stat(self.directory / name)
            except OSError:
                continue
            best = max(
                best, (stat.st_mtime, self.directory / name, stat.st_uid), key=lambda item: item[0]
            )
        return best[1], best[2]

    def _notice(self) -> None:
        self._last_event = time.monotonic()
        self._wake.set()

    def _stat_signature(self) -> tuple[tuple[int, int, int, int], ...]:
        """What changes whenever a file is rewritten, replaced or re-owned."""
        signature = []
        for name in POLICY_FILES:
            try:
                stat = os.stat(self.directory / name)
            except OSError:
                signature.append((0, 0, 0, 0))
                continue
            signature.append((stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_uid))
        return tuple(signature)

    def _run(self) -> None:
        while True:
            woke = self._wake.wait(timeout=self._rescan)
            if self._stopping.is_set():
                return
            if not woke and self._stat_signature() == self._signature:
                continue
            while (quiet := time.monotonic() - self._last_event) < self._settle:
                if self._stopping.wait(self._settle - quiet):
                    return
            self._wake.clear()
            try:
                self.reconcile()
            except Exception:
                log.exception("applying the policy files in %s failed", self.directory)


class _Handler(FileSystemEventHandler):
    """Turns events on the policy files (by name, after a rename too) into a wake-up."""

    def __init__(self, notice: Callable[[], None]) -> None:
        self._notice = notice

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _CHANGES:
            return
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if any(os.path.basename(os.fsdecode(path)) in POLICY_FILES for path in paths if path):
            self._notice()

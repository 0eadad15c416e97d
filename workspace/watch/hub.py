"""What every watched tree shares (the :class:`Hub`), and the records of a status and a scan."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from workspace.watch.inotify import Inotify

Key = tuple[int, str]  # (workspace id, tracked path relative to the workspace root)
Baseline = tuple[int, int]  # (dataset id, version) the stat cache was for


class Hub:
    """What every watched tree shares: one lock, one event counter, one inotify, one budget."""

    def __init__(self, inotify: Inotify, budget: int, schedule: Callable[[Key], None]) -> None:
        self.lock = threading.Lock()
        self.seq = 0
        self.inotify = inotify
        self.budget = budget
        self.in_use = 0
        self.schedule = schedule  # ask for a reconcile; must not take ``lock``

    def tick(self) -> int:
        self.seq += 1
        return self.seq


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The dirty state as one status found it, to settle what it checked afterwards."""

    generation: int
    seq: int
    paths: dict[str, int]
    dirs: dict[str, int]
    polled: frozenset[str]

    @property
    def empty(self) -> bool:
        return not (self.paths or self.dirs or self.polled)

    def examined(self) -> set[str]:
        return {*self.paths, *self.dirs, *self.polled}


@dataclass(frozen=True, slots=True)
class Token:
    """A reconcile in progress: trusted at the end only if ``generation`` did not move."""

    generation: int
    epoch: int
    baseline: Baseline

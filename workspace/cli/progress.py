"""A progress bar for streaming operations, drawn only when someone watches.

The bar appears when stderr is a terminal, --json is off, and the `start`
event announces enough work to be worth it; small operations finish before a
bar would be readable, so they print just their summary line.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING, Any

from workspace.cli.output import printable
from workspace.client.daemon import Json

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

MIN_FILES = 200
MIN_BYTES = 50 * 1024 * 1024


class StreamProgress:
    """An event sink for ``DaemonClient.stream`` that drives a files-and-bytes bar."""

    def __init__(self, label: str, *, enabled: bool, console: Console | None = None) -> None:
        self.label = printable(label)  # a path someone else may have named
        self.enabled = enabled
        self.console = console
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._by_bytes = True

    @classmethod
    def for_terminal(cls, label: str, *, as_json: bool) -> StreamProgress:
        return cls(label, enabled=not as_json and sys.stderr.isatty())

    def __enter__(self) -> StreamProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, event: Json) -> None:
        kind = event.get("event")
        if kind == "start" and self.enabled and _worth_a_bar(event):
            if self._bar is not None:  # a second phase (a checkout after fetching objects)
                self._bar.stop()
            self._start(_int(event.get("files")), _int(event.get("bytes")))
        elif kind == "progress" and self._bar is not None and self._task is not None:
            files = _int(event.get("files"))
            done = _int(event.get("bytes")) if self._by_bytes else files
            self._bar.update(self._task, completed=done, files=files)

    def _start(self, files: int, size: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        # Many empty files announce zero bytes: measure those by count instead.
        self._by_bytes = size > 0
        byte_columns = (DownloadColumn(binary_units=True), TransferSpeedColumn())
        self._bar = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[files]:,}/{task.fields[total_files]:,} files"),
            *(byte_columns if self._by_bytes else ()),
            TimeRemainingColumn(),
            console=self.console or Console(stderr=True),
            transient=True,
        )
        total = size if self._by_bytes else files
        self._task = self._bar.add_task(self.label, total=total, files=0, total_files=files)
        self._bar.start()


def _worth_a_bar(event: Json) -> bool:
    return _int(event.get("files")) > MIN_FILES or _int(event.get("bytes")) > MIN_BYTES


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0

"""How answers look: the daemon's JSON verbatim, or short text and rich tables.

rich is imported only when a table is drawn; plain lines (status, summaries,
errors) go through ``print`` so that the most frequent commands never pay
for it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from workspace.client.daemon import Json
from workspace.errors import WorkspaceError

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def print_json(data: Any, *, stream: Any = None) -> None:
    """The daemon's JSON, pretty-printed, for scripts (`--json`)."""
    print(json.dumps(data, indent=2, ensure_ascii=False), file=stream or sys.stdout)


def print_error(exc: WorkspaceError, *, as_json: bool) -> None:
    """`error: ...` and `hint: ...` on stderr, or the JSON error payload with --json."""
    if as_json:
        print_json(exc.to_payload(), stream=sys.stderr)
        return
    print(f"error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"hint: {exc.hint}", file=sys.stderr)


def human_size(size: object) -> str:
    """Bytes in binary units, e.g. `39.1 MiB`."""
    value = float(size) if isinstance(size, int | float) else 0.0
    exponent = 0
    while abs(value) >= 1024 and exponent < len(_UNITS) - 1:
        value /= 1024
        exponent += 1
    return f"{int(value)} B" if exponent == 0 else f"{value:.1f} {_UNITS[exponent]}"


def count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def subject(message: object) -> str:
    """A message's first line: tables show subjects, the full text is in --json."""
    return next(iter(str(message or "").splitlines()), "")


def summary_line(result: Json) -> str:
    """`vision/cats@2: 10,000 files, 39.1 MiB (312 new, 9,688 deduplicated), ... in 1.84s`."""
    pointer, summary = result.get("pointer") or {}, result.get("summary") or {}
    head = f"{pointer.get('dataset')}@{pointer.get('version')}: "
    files = summary.get("files", 0)
    noun = "file" if files == 1 else "files"
    head += f"{count(files)} {noun}, {human_size(summary.get('bytes', 0))}"
    new, dedup = summary.get("new_objects") or 0, summary.get("deduplicated") or 0
    if new or dedup:
        head += f" ({count(new)} new, {count(dedup)} deduplicated)"
    done = [f"{count(summary[key])} {word}" for key, word in _SUMMARY_WORDS if summary.get(key)]
    seconds = summary.get("seconds")
    tail = f" in {seconds:.2f}s" if isinstance(seconds, int | float) else ""
    return head + (", " + ", ".join(done) if done else "") + tail


LARGE_TABLE = 2000


def _plain_table(columns: Sequence[str], rows: list[Sequence[str]], title: str | None) -> None:
    widths = [len(name) for name in columns[:-1]]
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], len(cell))
    out = sys.stdout
    if title:
        out.write(title + "\n")
    for row in (columns, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


_SUMMARY_WORDS = (
    ("linked", "hardlinked"),
    ("copied", "copied (hardlink not possible)"),
    ("removed", "removed"),
    ("unchanged", "already in place"),
)


def table(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, title: str | None = None
) -> None:
    """A rich table on stdout: only the last column (usually a message) wraps.

    Piped output gets an unbounded width, so that rows stay whole for grep.
    Past ``LARGE_TABLE`` rows, plain aligned text instead: rich measures every
    cell, which took 38 s for the 100,000 rows of a big `ws blame`.
    """
    rows = list(rows)
    if len(rows) > LARGE_TABLE:
        _plain_table(columns, rows, title)
        return
    from rich.console import Console
    from rich.table import Column, Table

    *fixed, last = columns
    grid = Table(
        *(Column(name) for name in fixed),
        Column(last, ratio=1, min_width=20),
        title=title,
        box=None,
        header_style="bold",
        pad_edge=False,
    )
    for row in rows:
        grid.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 10_000, soft_wrap=False).print(grid)

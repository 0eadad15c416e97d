"""How answers look: the daemon's JSON verbatim, or short text and tables.

Everything the CLI shows goes through this module, and every string is
passed through :func:`printable` on the way out: a file name, commit
message, dataset, tag or user name is chosen by someone else and may hold
terminal control sequences (``ESC ] 0 ; title BEL`` retitles the window,
``ESC [ 2 J`` clears it, a carriage return overwrites what was printed).
Control characters are shown escaped (``\\x1b``), never sent raw. ``--json``
output stays exact: it decodes to the daemon's strings, with every control
character written as a JSON escape.

rich is imported only when a table is drawn on a terminal; plain lines
(status, summaries, errors) and piped tables are written directly, so the
most frequent commands never pay for it. Only this module prints
(``ruff``'s T20 rule enforces it for the rest of ``workspace/cli``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from workspace.client.daemon import Json
from workspace.errors import WorkspaceError

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")

_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f"  # C0 but TAB, DEL, C1 (CSI alone is \x9b)
    "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"  # bidi and line separators
    "\ud800-\udfff]"  # lone surrogates: undecodable bytes of a file name
)
_NAMED = {"\n": "\\n", "\r": "\\r"}
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                          "\u2066-\u2069\ud800-\udfff]")


def printable(text: object) -> str:
    """``text`` with every character that could steer a terminal shown escaped.

    C0 controls (but TAB), DEL and C1 controls become ``\\xNN`` (``\\n`` and
    ``\\r`` by name), bidirectional overrides and line separators ``\\uNNNN``,
    and the undecodable bytes of a file name (surrogate escapes) ``\\xNN``.
    Backslashes are left alone, so ordinary names read as they are.
    """
    value = str(text)
    return _UNSAFE.sub(_escape, value) if _UNSAFE.search(value) else value


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's escape of one undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def say(text: object = "", *, stream: TextIO | None = None) -> None:
    """One line for people on stdout (or ``stream``), control characters escaped."""
    (stream or sys.stdout).write(printable(text) + "\n")


def warn(text: object) -> None:
    """One line on stderr (warnings, notes), control characters escaped."""
    say(text, stream=sys.stderr)


def say_lines(lines: Iterable[object]) -> None:
    """Many lines at once (large listings), each escaped like :func:`say`."""
    sys.stdout.write("".join(printable(line) + "\n" for line in lines))


def print_json(data: Any, *, stream: TextIO | None = None) -> None:
    """The daemon's JSON, pretty-printed, for scripts (`--json`).

    Exact: ``json.loads`` of the output gives back ``data``. Non-ASCII text is
    kept readable; the characters ``json.dumps`` would leave raw although a
    terminal acts on them (DEL, C1, bidi overrides, lone surrogates) are
    written as ``\\uNNNN`` escapes, which decode to the same strings.
    """
    text = _json_escaped(json.dumps(data, indent=2, ensure_ascii=False))
    (stream or sys.stdout).write(text + "\n")


def print_json_columns(data: Json) -> None:
    """``print_json`` for answers made of long columns (`ws blame --json`): one top-level
    key a line, each value compact on it. Indenting each element of a 100,000-long list
    sends ``json`` to its pure-Python encoder (seconds, for a blame); this is the C one.
    The same exactness: it decodes to ``data``, unsafe characters written as escapes."""
    fields = [f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}"
              for key, value in data.items()]
    text = "{\n" + ",\n".join(fields) + "\n}" if fields else "{}"
    sys.stdout.write(_json_escaped(text) + "\n")


def _json_escaped(text: str) -> str:
    """JSON text with the characters a terminal acts on written as ``\\uNNNN``. DEL is the
    only ASCII one (``json`` escapes C0 itself), so ASCII text is checked in two C-speed
    passes rather than a regular expression's (50 ms over a 12 MB blame)."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_error(exc: WorkspaceError, *, as_json: bool) -> None:
    """`error: ...` and `hint: ...` on stderr, or the JSON error payload with --json."""
    if as_json:
        print_json(exc.to_payload(), stream=sys.stderr)
        return
    warn(f"error: {exc.message}")
    if exc.hint:
        warn(f"hint: {exc.hint}")


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


_SUMMARY_WORDS = (
    ("linked", "hardlinked"),
    ("copied", "copied (hardlink not possible)"),
    ("removed", "removed"),
    ("unchanged", "already in place"),
)
LARGE_TABLE = 2000


def table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None
) -> None:
    """Aligned columns on stdout, every cell escaped; only the last column may wrap.

    On a terminal, a rich table (bold header, the last column wrapped to the
    width). Piped, or past ``LARGE_TABLE`` rows, plain aligned text with no
    trailing spaces and rows kept whole for grep: rich pads every cell, and
    measuring every cell took 38 s for the 100,000 rows of a big `ws blame`.
    """
    cells = [[printable(cell) for cell in row] for row in rows]
    shown_title = printable(title) if title else None
    if len(cells) > LARGE_TABLE or not sys.stdout.isatty():
        _plain_table(columns, cells, shown_title)
    else:
        _rich_table(columns, cells, shown_title)


def keyed_table(columns: Sequence[str], first: Sequence[str], keys: Sequence[Any],
                described: Mapping[Any, Sequence[object]], *,
                title: str | None = None) -> None:
    """A table whose rows are a cell of their own (a path) and the cells of a row of a
    small table, looked up by key (the version that last changed the path).

    Built for `ws blame` of 100,000 files: each described row is escaped and padded
    once, each first cell is escaped once, and a row is one string concatenation, so
    printing costs a fraction of a second where ``table`` (a list of cells per row,
    every cell escaped and measured) took seconds. Small answers on a terminal still
    get ``table``'s rich layout; the plain layout is ``table``'s own.
    """
    if len(first) <= LARGE_TABLE and sys.stdout.isatty():
        table(columns, [[path, *described[key]] for path, key in zip(first, keys, strict=True)],
              title=title)
        return
    shown = _escaped_rows(described)
    paths = _escaped(first)
    head = [list(columns[1:])]
    widths = [max(map(len, column)) for column in zip(*head, *shown.values(), strict=True)]
    width = max(len(columns[0]), *map(len, paths)) if paths else len(columns[0])
    tails = {key: _tail(_row(cells, widths)) for key, cells in shown.items()}
    lines = [printable(title)] if title else []
    lines.append(_joined(columns[0], width, _row(head[0], widths)))
    # one concatenation per file, inline: a call per row was a third of the printing
    lines.extend([path.ljust(width) + tail if (tail := tails[key]) else path.rstrip()
                  for path, key in zip(paths, keys, strict=True)])
    sys.stdout.write("\n".join(lines) + "\n")


def _escaped(cells: Sequence[str]) -> list[str]:
    """``printable`` of each cell, in one scan of them all when none needs escaping (TAB,
    the separator, is shown as is)."""
    if not _UNSAFE.search("\t".join(cells)):
        return list(cells)
    return [printable(cell) for cell in cells]


def _escaped_rows(rows: Mapping[Any, Sequence[object]]) -> dict[Any, list[str]]:
    """``_escaped`` for the cells of many rows, keyed as given."""
    shown = {key: [str(cell) for cell in cells] for key, cells in rows.items()}
    if _UNSAFE.search("\t".join("\t".join(cells) for cells in shown.values())):
        return {key: [printable(cell) for cell in cells] for key, cells in shown.items()}
    return shown


def _tail(rest: str) -> str:
    return f"  {rest}" if rest else ""


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = [cell.ljust(size) for cell, size in zip(cells[:-1], widths, strict=False)]
    return "  ".join([*padded, cells[-1]]).rstrip()


def _joined(first: str, width: int, rest: str) -> str:
    return f"{first.ljust(width)}  {rest}" if rest else first.rstrip()


def _plain_table(columns: Sequence[str], rows: list[list[str]], title: str | None) -> None:
    widths = [len(name) for name in columns[:-1]]
    for row in rows:
        for index, cell in enumerate(row[:-1]):
            widths[index] = max(widths[index], len(cell))
    lines = [title] if title else []
    for row in (list(columns), *rows):
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*padded, row[-1]]).rstrip())
    sys.stdout.write("".join(line + "\n" for line in lines))


def _rich_table(columns: Sequence[str], rows: list[list[str]], title: str | None) -> None:
    """rich, given ``Text`` cells: a ``str`` cell would be read as rich markup (``[red]``)."""
    from rich.console import Console
    from rich.table import Column, Table
    from rich.text import Text

    *fixed, last = columns
    grid = Table(
        *(Column(name) for name in fixed),
        Column(last, ratio=1, min_width=20),
        title=Text(title) if title else None,
        box=None,
        header_style="bold",
        pad_edge=False,
    )
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    Console(soft_wrap=False, markup=False, highlight=False).print(grid)


def plural(number: int, noun: str, nouns: str | None = None) -> str:
    """`1 file`, `2 files`, `1 directory`, `3 directories` (``nouns``: the irregular plural)."""
    return f"{number:,} {noun if number == 1 else nouns or noun + 's'}"

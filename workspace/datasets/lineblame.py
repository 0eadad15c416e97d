"""Line blame: for each line of a text file, the version that introduced it.

Like Dolt's per-row blame: walk the file's contents oldest first and carry one
version number per line. Each step diffs the previous content against the next
(``workspace.vcs.linediff``) and rebuilds the list: unchanged lines keep their
number, every inserted or modified line gets the new version. The answer for
version N is therefore a pure function of the contents up to N, which is why
``incremental`` exists: cache the list for N, extend it to N+1 with one diff.

A file deleted and re-added appears in the sequence again; lines equal to the
content before the deletion keep their old versions. Pass the deleting version
with empty content (``(v, b"")``) when re-added lines should count as new.

Lines are git's lines (``linediff``): CRLF files work, a missing final newline
is a line, and turning CRLF into LF re-attributes every line.

Pure: no database, no store, no git repository.
"""

from __future__ import annotations

from collections.abc import Sequence

from workspace.errors import InvalidInput, WorkspaceError
from workspace.vcs.linediff import count_lines, is_text, line_hunks


def blame_lines(versions: Sequence[tuple[int, bytes]], *, source: str = "the file") -> list[int]:
    """For each line of the last content, the version that introduced it.

    ``versions`` are (version, content) oldest first. Only the last content
    must be text (``source`` names it in the refusal); older contents are
    diffed as they are.
    """
    if not versions:
        return []
    _require_text(versions[-1][1], source)
    first_version, previous = versions[0]
    blame = [first_version] * count_lines(previous)
    for version, content in versions[1:]:
        blame = _advance(blame, previous, content, version)
        previous = content
    return blame


def incremental(
    previous: list[int], old: bytes, new: bytes, version: int, *, source: str = "the file"
) -> list[int]:
    """The blame of ``new`` (at ``version``) from the blame of ``old``, its predecessor."""
    _require_text(new, source)
    if len(previous) != count_lines(old):
        raise WorkspaceError(
            f"cached line blame for {source} has {len(previous)} lines, "
            f"its content has {count_lines(old)}",
            hint="drop the cached blame for this path and compute it again",
        )
    return _advance(previous, old, new, version)


def _advance(blame: list[int], old: bytes, new: bytes, version: int) -> list[int]:
    """One step forward: copy unchanged runs, stamp changed lines with ``version``.

    Builds a new list in one pass (O(lines + hunks)) instead of splicing in
    place, which would move the tail of the list once per hunk.
    """
    hunks = line_hunks(old, new)
    if not hunks:
        return blame
    out: list[int] = []
    done = 0
    for hunk in hunks:
        out += blame[done : hunk.old_start]
        out += [version] * hunk.new_lines
        done = hunk.old_start + hunk.old_lines
    out += blame[done:]
    return out


def _require_text(content: bytes, source: str) -> None:
    if not is_text(content):
        raise InvalidInput(
            f"{source} is binary (NUL bytes or invalid UTF-8), so it has no lines to blame",
            hint="line blame works on text files (CSV, TSV, JSONL, TXT); "
            "use `ws blame DATASET` for who changed each file",
        )

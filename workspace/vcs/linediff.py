"""Line hunks between two versions of a text file, by libgit2's diff (xdiff).

A line is what git calls a line: bytes up to and including ``\\n``; a
``\\r`` before it belongs to the line (so a CRLF file has one line per CRLF,
and converting line endings changes every line), and a last line without
``\\n`` is still a line. ``count_lines`` counts the same way.

Hunks are **0-based and half-open**, in Python slice terms: ``old[old_start :
old_start + old_lines]`` was replaced by ``new[new_start : new_start +
new_lines]``. A pure insertion has ``old_lines == 0`` and ``old_start`` is the
index it goes before; a pure deletion has ``new_lines == 0``. Hunks come in
order and do not overlap (two may touch, where the file was cut in pieces).

Speed: libgit2 hashes both buffers, then xdiff's cost grows with the size
times the number of edits. So both files are first cut into aligned pieces at
anchor lines (``_segments``), equal pieces are skipped at memcmp speed, and
each differing piece loses its common head and tail before libgit2 sees it:
sparse edits to a 100,000-line file cost a few tiny diffs. The hunks are
always valid; they can be longer than libgit2's own only when an edit puts a
copy of an anchor's lines shortly before the original.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import NamedTuple

import pygit2
from pygit2.enums import DiffOption

TEXT_PROBE = 8192
_BLOCK = 1 << 16
_CHUNK = 1 << 14
_ANCHOR = 48
_NL = b"\n"


class Hunk(NamedTuple):
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int


def is_text(data: bytes) -> bool:
    """Whether line blame makes sense: no NUL byte and valid UTF-8 in the first 8 KiB."""
    probe = data[:TEXT_PROBE]
    if b"\0" in probe:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(probe, final=len(data) <= TEXT_PROBE)
    except UnicodeDecodeError:
        return False
    return True


def count_lines(data: bytes) -> int:
    """Lines as git counts them (a last line without ``\\n`` counts)."""
    return data.count(_NL) + (1 if data and not data.endswith(_NL) else 0)


def line_hunks(old: bytes, new: bytes) -> list[Hunk]:
    """The changed line ranges from ``old`` to ``new`` (0-based, half-open; see module doc)."""
    hunks: list[Hunk] = []
    if old == new:
        return hunks
    old_line = new_line = 0
    for o0, o1, n0, n1 in _segments(old, new):
        old_part, new_part = old[o0:o1], new[n0:n1]
        if old_part != new_part:
            hunks += [_shift(h, old_line, new_line) for h in _segment_hunks(old_part, new_part)]
        old_line += old_part.count(_NL)
        new_line += new_part.count(_NL)
    return hunks


def _segments(old: bytes, new: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Cut both files into aligned pieces (old_start, old_end, new_start, new_end), in bytes.

    About every ``_CHUNK`` bytes of ``old`` a few whole lines are taken as an
    anchor and looked for in ``new``; a match cuts both. Each pair of pieces
    is then diffed alone (equal pieces cost one memcmp), so sparse edits in a
    big file cost a few small diffs instead of one large one, whose cost grows
    with size times edits. After a miss the next anchor is taken twice as far,
    so a file rewritten from top to bottom costs O(size) searches.
    """
    o = n = misses = 0
    while (at := o + (_CHUNK << misses)) < len(old):
        cut = _anchor(old, at, o, new, n)
        if cut is None:
            misses += 1
            continue
        yield o, cut[0], n, cut[1]
        o, n, misses = cut[0], cut[1], 0
    yield o, len(old), n, len(new)


def _anchor(old: bytes, at: int, o: int, new: bytes, n: int) -> tuple[int, int] | None:
    """Where the lines from the first line start after ``at`` in ``old`` are in ``new``.

    Used only if the anchor first occurs there in its piece of ``old``, starts
    a line in ``new``, and the new piece is at most twice the old one. So an
    unchanged region always aligns, and a block moved across the file is not
    taken as the spine (which would turn the rest of the file into changes):
    the diff stays the minimal one for such edits, and is valid whatever
    happens.
    """
    start = old.find(_NL, at) + 1
    stop = old.find(_NL, start + _ANCHOR) + 1
    if start == 0 or stop == 0:
        return None
    anchor = old[start:stop]
    if old.find(anchor, o) != start:
        return None
    found = new.find(anchor, n, n + 2 * (start - o) + len(anchor))
    if found < 0 or (found > n and new[found - 1] != _NL[0]):
        return None
    return start, found


def _segment_hunks(old: bytes, new: bytes) -> list[Hunk]:
    """Hunks of one pair of pieces: cut the common whole-line head and tail, diff the rest."""
    head = _common_head(old, new)
    tail = _common_tail(old, new, head)
    lines = old.count(_NL, 0, head)
    old_mid, new_mid = old[head : len(old) - tail], new[head : len(new) - tail]
    if not old_mid or not new_mid:
        return [Hunk(lines, count_lines(old_mid), lines, count_lines(new_mid))]
    return [_shift(hunk, lines, lines) for hunk in _xdiff(old_mid, new_mid)]


def _xdiff(old: bytes, new: bytes) -> list[Hunk]:
    """libgit2's hunks, converted from 1-based unified-diff numbers to 0-based slices."""
    patch = pygit2.Patch.create_from(old, new, context_lines=0, flag=DiffOption.FORCE_TEXT)
    return [
        Hunk(
            _zero_based(hunk.old_start, hunk.old_lines),
            hunk.old_lines,
            _zero_based(hunk.new_start, hunk.new_lines),
            hunk.new_lines,
        )
        for hunk in patch.hunks
    ]


def _zero_based(start: int, lines: int) -> int:
    """Unified diff numbers an empty range by the line *before* it, a non-empty by its first."""
    return start - 1 if lines else start


def _shift(hunk: Hunk, old_offset: int, new_offset: int) -> Hunk:
    return Hunk(
        hunk.old_start + old_offset, hunk.old_lines, hunk.new_start + new_offset, hunk.new_lines
    )


def _common_head(old: bytes, new: bytes) -> int:
    """Bytes of the longest common prefix made of whole lines."""
    same = _match(old, new, min(len(old), len(new)), from_end=False)
    return old.rfind(_NL, 0, same) + 1


def _common_tail(old: bytes, new: bytes, head: int) -> int:
    """Bytes of the longest common suffix of whole lines, not reaching into ``head``."""
    same = _match(old, new, min(len(old), len(new)) - head, from_end=True)
    if _line_start(old, len(old) - same, head) and _line_start(new, len(new) - same, head):
        return same
    newline = old.find(_NL, len(old) - same)
    return 0 if newline < 0 else len(old) - newline - 1


def _line_start(data: bytes, index: int, head: int) -> bool:
    return index == head or data[index - 1 : index] == _NL


def _match(old: bytes, new: bytes, limit: int, *, from_end: bool) -> int:
    """How many bytes agree from the start (or the end), up to ``limit``.

    Compares blocks (memcmp speed), halving the block at the first mismatch,
    so a 5 MB file costs a few hundred slice compares, not five million steps.
    """
    done, step = 0, _BLOCK
    while done < limit:
        size = min(step, limit - done)
        if _slice(old, done, size, from_end) == _slice(new, done, size, from_end):
            done += size
        elif size == 1:
            break
        else:
            step = size // 2
    return done


def _slice(data: bytes, done: int, size: int, from_end: bool) -> bytes:
    if from_end:
        return data[len(data) - done - size : len(data) - done]
    return data[done : done + size]

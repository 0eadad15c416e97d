"""Line hunks between two contents (0-based, half-open) and the text-or-binary test."""

from __future__ import annotations

import random

import pygit2
import pytest
from pygit2.enums import DiffOption

from workspace.vcs.linediff import Hunk, count_lines, is_text, line_hunks


def lines_of(data: bytes) -> list[bytes]:
    """git's lines: split after each \\n; a last line without one still counts."""
    parts = data.split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def check_applies(old: bytes, new: bytes, hunks: list[Hunk]) -> None:
    """Replaying the hunks on old's lines gives new's lines, at the positions they claim."""
    old_lines, new_lines = lines_of(old), lines_of(new)
    rebuilt: list[bytes] = []
    done = 0
    for hunk in hunks:
        assert hunk.old_start >= done, f"hunks overlap or go back: {hunks}"
        rebuilt += old_lines[done : hunk.old_start]
        assert hunk.new_start == len(rebuilt), f"wrong new_start in {hunk}"
        rebuilt += new_lines[hunk.new_start : hunk.new_start + hunk.new_lines]
        done = hunk.old_start + hunk.old_lines
    rebuilt += old_lines[done:]
    assert rebuilt == new_lines


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (b"a\nb\nc\n", b"a\nb\nc\n", []),
        (b"a\nb\nc\n", b"x\na\nb\nc\n", [Hunk(0, 0, 0, 1)]),
        (b"a\nb\nc\n", b"a\nx\ny\nb\nc\n", [Hunk(1, 0, 1, 2)]),
        (b"a\nb\nc\n", b"a\nb\nc\nx\n", [Hunk(3, 0, 3, 1)]),
        (b"a\nb\nc\n", b"a\nc\n", [Hunk(1, 1, 1, 0)]),
        (b"a\nb\nc\n", b"a\nB\nc\n", [Hunk(1, 1, 1, 1)]),
        (b"a\nb\nc\n", b"A\nb\nC\n", [Hunk(0, 1, 0, 1), Hunk(2, 1, 2, 1)]),
        (b"", b"a\nb\n", [Hunk(0, 0, 0, 2)]),
        (b"a\nb\n", b"", [Hunk(0, 2, 0, 0)]),
        (b"a\nb", b"a\nb\n", [Hunk(1, 1, 1, 1)]),  # the last line gains its newline
        (b"a\nb", b"a\nb\nc", [Hunk(1, 1, 1, 2)]),
        (b"a\r\nb\r\nc\r\n", b"a\r\nB\r\nc\r\n", [Hunk(1, 1, 1, 1)]),
        (b"a\r\nb\r\n", b"a\nb\n", [Hunk(0, 2, 0, 2)]),  # line endings are part of lines
        (b"a\rb\n", b"a\rc\n", [Hunk(0, 1, 0, 1)]),  # a lone \r does not end a line
    ],
)
def test_hunks(old: bytes, new: bytes, expected: list[Hunk]) -> None:
    assert line_hunks(old, new) == expected
    check_applies(old, new, expected)


@pytest.mark.parametrize(
    ("data", "count"),
    [(b"", 0), (b"a", 1), (b"a\n", 1), (b"a\nb", 2), (b"\n\n", 2), (b"a\r\nb\r\n", 2)],
)
def test_count_lines(data: bytes, count: int) -> None:
    assert count_lines(data) == count == len(lines_of(data))


def test_random_edits_always_replay() -> None:
    rng = random.Random(4)
    alphabet = [b"a\n", b"b\n", b"c\r\n", b"a", b"\n", b"dd\n", b"b", b"\r"]
    for _ in range(3000):
        old = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        new = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9)))
        check_applies(old, new, line_hunks(old, new))


def big_csv(rows: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    return [f"{i},{rng.random():.6f},label{i % 7}\n".encode() for i in range(rows)]


def test_sparse_edits_in_a_big_file_give_exactly_those_hunks() -> None:
    rows = big_csv(100_000, seed=1)
    old = b"".join(rows)
    rows[10] = b"changed\n"
    del rows[20_000]
    rows[70_000:70_000] = [b"new 1\n", b"new 2\n", b"new 3\n"]
    rows[-1] = b"last, without newline"
    new = b"".join(rows)

    hunks = line_hunks(old, new)

    assert hunks == [
        Hunk(10, 1, 10, 1),
        Hunk(20_000, 1, 20_000, 0),
        Hunk(70_001, 0, 70_000, 3),
        Hunk(99_999, 1, 100_001, 1),
    ]
    check_applies(old, new, hunks)


def test_big_files_with_many_repeated_lines_still_replay() -> None:
    rng = random.Random(9)
    pool = [b"0,0,0\n", b"1,1,1\n", f"{'x' * 60}\n".encode(), b"same\n"]
    rows = [rng.choice(pool) for _ in range(30_000)]
    old = b"".join(rows)
    for _ in range(40):
        at = rng.randrange(len(rows))
        action = rng.choice(["edit", "insert", "delete"])
        if action == "edit":
            rows[at] = rng.choice(pool)
        elif action == "insert":
            rows[at:at] = [rng.choice(pool) for _ in range(rng.randint(1, 50))]
        else:
            del rows[at : at + rng.randint(1, 50)]
    new = b"".join(rows)
    check_applies(old, new, line_hunks(old, new))


def test_a_block_moved_across_the_file_replays() -> None:
    rows = big_csv(20_000, seed=2)
    old = b"".join(rows)
    new = b"".join(rows[5_000:] + rows[:5_000])
    hunks = line_hunks(old, new)
    check_applies(old, new, hunks)
    assert sum(h.old_lines for h in hunks) == 5_000


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"", True),
        (b"name,label\ncat,1\n", True),
        ("été,😀\n".encode(), True),
        (b"a\0b\n", False),
        (b"\xff\xfeh\0i\0", False),  # UTF-16
        (b"caf\xe9\n", False),  # Latin-1
        ("é".encode()[:1], False),  # cut inside a character at the very end
        (b"x" * 8191 + "é".encode() + b"\n", True),  # a character across the 8 KiB probe
        (b"x" * 9000 + b"\0", True),  # only the first 8 KiB are looked at
    ],
)
def test_is_text(data: bytes, text: bool) -> None:
    assert is_text(data) is text


def test_pieces_never_make_the_diff_longer_than_libgit2s_own() -> None:
    """Cutting the files at anchors is a speed-up, not a change of answer."""
    rng = random.Random(3)
    for _ in range(12):
        repeated = rng.random() < 0.3
        pool = [b"0,0\n", b"1,1\n", b"cat\n", b"dog\n"]
        rows = [
            rng.choice(pool) if repeated else f"{i},{rng.random():.5f}\n".encode()
            for i in range(rng.choice([3_000, 20_000]))
        ]
        old = b"".join(rows)
        for _ in range(rng.randint(1, 40)):
            _random_edit(rng, rows)
        new = b"".join(rows)
        ours = line_hunks(old, new)
        check_applies(old, new, ours)
        assert _changed(ours) <= _changed(_libgit2_hunks(old, new))


def _random_edit(rng: random.Random, rows: list[bytes]) -> None:
    at, size = rng.randrange(len(rows)), rng.choice([1, 1, 5, 50, 2_000])
    action = rng.choice(["edit", "insert", "delete", "move"])
    if action == "edit":
        rows[at : at + size] = [f"e{rng.random()}\n".encode() for _ in rows[at : at + size]]
    elif action == "insert":
        rows[at:at] = [f"i{rng.random()}\n".encode() for _ in range(size)]
    elif action == "delete":
        del rows[at : at + size]
    else:
        block = rows[at : at + size]
        del rows[at : at + size]
        to = rng.randrange(len(rows) + 1)
        rows[to:to] = block


def _libgit2_hunks(old: bytes, new: bytes) -> list[Hunk]:
    patch = pygit2.Patch.create_from(old, new, context_lines=0, flag=DiffOption.FORCE_TEXT)
    return [Hunk(h.old_start, h.old_lines, h.new_start, h.new_lines) for h in patch.hunks]


def _changed(hunks: list[Hunk]) -> int:
    return sum(h.old_lines + h.new_lines for h in hunks)

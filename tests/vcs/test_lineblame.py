"""Line blame: each line of the last content, with the version that introduced it."""

from __future__ import annotations

import itertools
import random

import pytest

from workspace.datasets.lineblame import blame_lines, incremental
from workspace.errors import InvalidInput, WorkspaceError


def test_inserts_deletes_and_edits_across_versions() -> None:
    versions = [
        (1, b"id,label\n1,cat\n2,dog\n3,cat\n"),
        (2, b"id,label\n1,cat\n1b,bird\n2,dog\n3,cat\n"),  # insert
        (3, b"id,label\n1,cat\n1b,bird\n3,cat\n"),  # delete
        (4, b"id,label\n1,cat\n1b,bird\n3,cow\n4,ant\n"),  # modify + append
    ]
    assert blame_lines(versions) == [1, 1, 2, 4, 4]


def test_crlf_lines_are_lines() -> None:
    versions = [
        (1, b"a\r\nb\r\nc\r\n"),
        (2, b"a\r\nB\r\nc\r\n"),
        (3, b"a\r\nB\r\nc\r\nd\r\n"),
    ]
    assert blame_lines(versions) == [1, 2, 1, 3]


def test_converting_line_endings_changes_every_line() -> None:
    assert blame_lines([(1, b"a\r\nb\r\n"), (2, b"a\nb\n")]) == [2, 2]


def test_a_last_line_without_newline() -> None:
    assert blame_lines([(1, b"a\nb")]) == [1, 1]
    # b gains its newline (so it changed) and c follows it
    assert blame_lines([(1, b"a\nb"), (2, b"a\nb\nc")]) == [1, 2, 2]
    assert blame_lines([(1, b"a\nb\n"), (2, b"a\nb\nc")]) == [1, 1, 2]


def test_empty_files_and_no_versions() -> None:
    assert blame_lines([]) == []
    assert blame_lines([(1, b"")]) == []
    assert blame_lines([(1, b""), (2, b"a\n")]) == [2]
    assert blame_lines([(1, b"a\n"), (2, b"")]) == []


def test_a_deleted_then_re_added_file() -> None:
    before, again = b"a\nb\n", b"a\nb\nc\n"
    assert blame_lines([(1, before), (3, again)]) == [1, 1, 3]
    # with the deletion in the sequence, the re-added lines are new
    assert blame_lines([(1, before), (2, b""), (3, again)]) == [3, 3, 3]


def test_versions_need_not_be_consecutive() -> None:
    assert blame_lines([(3, b"a\n"), (7, b"a\nb\n"), (12, b"x\na\nb\n")]) == [12, 3, 7]


def test_binary_files_are_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInput, match=r"data/img\.png is binary") as caught:
        blame_lines([(1, b"a\n"), (2, b"\x89PNG\r\n\x1a\n\0\0")], source="data/img.png")
    assert "ws blame DATASET" in (caught.value.hint or "")
    with pytest.raises(InvalidInput, match="binary"):
        incremental([1], b"a\n", b"caf\xe9\n", 2)


def test_a_binary_past_does_not_stop_a_text_present() -> None:
    assert blame_lines([(1, b"\0\0\n"), (2, b"a\nb\n")]) == [2, 2]


def test_incremental_extends_a_cached_blame() -> None:
    rng = random.Random(5)
    rows = [f"{i},{rng.random():.4f}\n".encode() for i in range(2_000)]
    versions = [(1, b"".join(rows))]
    for version in range(2, 12):
        for _ in range(20):
            at = rng.randrange(len(rows))
            rows[at : at + rng.randint(0, 3)] = [f"v{version}-{rng.random()}\n".encode()]
        versions.append((version, b"".join(rows)))

    cached = blame_lines(versions[:1])
    for (_, old), (version, new) in itertools.pairwise(versions):
        cached = incremental(cached, old, new, version)
        assert cached == blame_lines(versions[:version])

    by_version = dict(versions)
    for line, version in zip(versions[-1][1].splitlines(keepends=True), cached, strict=True):
        assert line in by_version[version].splitlines(keepends=True)
        assert line.startswith(f"v{version}-".encode()) or version == 1


def test_incremental_refuses_a_cache_that_does_not_fit() -> None:
    with pytest.raises(WorkspaceError, match="has 2 lines, its content has 3") as caught:
        incremental([1, 1], b"a\nb\nc\n", b"a\n", 2, source="labels.csv")
    assert caught.value.hint

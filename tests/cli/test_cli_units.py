"""The CLI's pure pieces, in process: times, sizes, paths, gitignore lines, events, progress."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from workspace.cli.main import _wants_json
from workspace.cli.output import human_size, summary_line
from workspace.cli.progress import StreamProgress
from workspace.cli.times import parse_since, short_time
from workspace.client.daemon import consume_events
from workspace.client.paths import daemon_path, in_workspace
from workspace.client.pointers import ensure_ignored
from workspace.errors import Conflict, InvalidInput, WorkspaceError

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", "2026-11-21T11:30:00.000000Z"),
        ("12h", "2026-11-21T00:00:00.000000Z"),
        ("7d", "2026-11-14T12:00:00.000000Z"),
        ("2w", "2026-11-07T12:00:00.000000Z"),
        ("2026-11-01T09:00:00+01:00", "2026-11-01T08:00:00.000000Z"),
        ("2026-11-01T09:00:00Z", "2026-11-01T09:00:00.000000Z"),
    ],
)
def test_parse_since(text: str, expected: str) -> None:
    assert parse_since(text, now=NOW) == expected


def test_parse_since_reads_a_bare_date_as_local_midnight(monkeypatch: Any) -> None:
    monkeypatch.setenv("TZ", "Europe/Paris")
    import time

    time.tzset()
    try:
        assert parse_since("2026-07-01") == "2026-06-30T22:00:00.000000Z"
        assert short_time("2026-07-01T10:00:00.5Z") == "2026-07-01 12:00"
        assert short_time("2026-01-15T10:00:00+00:00") == "2026-01-15 11:00"  # winter
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_parse_since_refuses_nonsense() -> None:
    with pytest.raises(InvalidInput):
        parse_since("yesterday")


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (41000000, "39.1 MiB"), (3 << 40, "3.0 TiB")],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_summary_line_names_copies_and_removals() -> None:
    result = {
        "pointer": {"dataset": "vision/cats", "version": 1},
        "summary": {"files": 10000, "bytes": 0, "linked": 9000, "copied": 1000, "removed": 3},
    }
    assert summary_line(result) == (
        "vision/cats@1: 10,000 files, 0 B, 9,000 hardlinked, "
        "1,000 copied (hardlink not possible), 3 removed"
    )


def test_daemon_path_strips_slashes_and_resolves_parents(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "data").symlink_to(tmp_path)
    assert daemon_path(f"{tmp_path}/link/data/") == f"{tmp_path}/real/data"
    assert daemon_path("/") == "/"


def test_in_workspace_refuses_escapes() -> None:
    assert in_workspace("/w", "a/b.ws") == "/w/a/b.ws"
    for bad in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(WorkspaceError):
            in_workspace("/w", bad)


def test_gitignore_entry_is_a_literal_pattern(tmp_path: Path) -> None:
    ensure_ignored(str(tmp_path / "run[1]*"), is_dir=False)
    assert (tmp_path / ".gitignore").read_text() == "/run\\[1]\\*\n"


def test_gitignore_accepts_an_existing_directory_pattern(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("/data/\n")
    ensure_ignored(str(tmp_path / "data"), is_dir=True)
    assert (tmp_path / ".gitignore").read_text() == "/data/\n"


def test_events_are_passed_on_until_the_result() -> None:
    seen: list[Any] = []
    lines = ['{"event": "start", "files": 1, "bytes": 2}', "", '{"event": "result", "result": {}}']
    assert consume_events(lines, seen.append) == {}
    assert seen == [{"event": "start", "files": 1, "bytes": 2}]


def test_error_event_keeps_its_class() -> None:
    line = '{"event": "error", "error": {"code": "conflict", "message": "bob committed v3"}}'
    with pytest.raises(Conflict, match="bob committed v3"):
        consume_events([line], lambda event: None)


def test_garbage_line_is_an_error() -> None:
    with pytest.raises(WorkspaceError, match="unreadable progress line"):
        consume_events(["<html>"], lambda event: None)


def test_progress_bar_only_for_big_operations() -> None:
    for files, drawn in ((10, False), (5000, True)):
        buffer = io.StringIO()
        console = Console(file=buffer, force_terminal=True, width=100)
        with StreamProgress("adding data", enabled=True, console=console) as bar:
            bar({"event": "start", "files": files, "bytes": 1 << 20})
            bar({"event": "progress", "files": files // 2, "bytes": 1 << 19})
        assert ("adding data" in buffer.getvalue()) is drawn


def test_json_flag_detection_stops_at_double_dash() -> None:
    assert _wants_json(["status", "--json"])
    assert not _wants_json(["log", "--", "--json"])

"""cli/output.py in process: the one escaping function, exact JSON, plain tables."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from workspace.cli import output
from workspace.cli.output import plural, print_json, printable, table


@pytest.mark.parametrize(("raw", "shown"), [
    ("labels.csv", "labels.csv"),
    ("tab\tkept", "tab\tkept"),
    ("back\\slash", "back\\slash"),
    ("naïve/猫.csv", "naïve/猫.csv"),
    ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
    ("\x1b[2J", "\\x1b[2J"),
    ("a\nerror: fake", "a\\nerror: fake"),
    ("over\rwrite", "over\\rwrite"),
    ("nul\x00del\x7f", "nul\\x00del\\x7f"),
    ("c1\u009b2J\u0085", "c1\\x9b2J\\x85"),
    ("bidi\u202egnp.exe", "bidi\\u202egnp.exe"),
    ("line\u2028sep", "line\\u2028sep"),
    ("bytes\udcff\udcfe", "bytes\\xff\\xfe"),  # os.fsdecode of b"bytes\xff\xfe"
])
def test_printable_escapes_what_steers_a_terminal(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_print_json_is_exact_and_holds_no_raw_control_character() -> None:
    data = {"path": "e\x1b]0;x\x07\u009b\u202e\udcff\x7f", "name": "猫", "n": [1, None]}
    stream = io.StringIO()
    print_json(data, stream=stream)
    text = stream.getvalue()
    assert json.loads(text) == data
    assert "猫" in text
    assert all(printable(line) == line for line in text.splitlines())  # nothing left raw


@pytest.mark.parametrize("data", [
    {"paths": ["ascii\x7fdel"], "n": [1]},  # DEL: the one ASCII character json leaves raw
    {"paths": ["plain", "c1\u009b"], "versions": {"1": {"message": "bidi\u202e"}}},
    {"paths": ["plain"], "sizes": [3]},
])
def test_print_json_columns_is_exact_and_holds_no_raw_control_character(
        capsys: Any, data: dict[str, Any]) -> None:
    output.print_json_columns(data)
    text = capsys.readouterr().out
    assert json.loads(text) == data
    assert all(printable(line) == line for line in text.splitlines())


def test_keyed_tables_escape_every_cell_once_however_many_rows(capsys: Any) -> None:
    """Piped: cells are checked in one scan, escaped one by one only when one needs it."""
    described = {1: ("1", "ann", "fix\x1b[2J"), 2: ("2", "ben", "ok"), 3: ("", "", "")}
    for paths in (["a", "b/c\x07"], ["a", "b/c"]):
        output.keyed_table(("Path", "V", "Who", "Why"), [*paths, "d "], [1, 2, 3], described,
                           title="t")
        lines = capsys.readouterr().out.splitlines()
        width = max(4, len(printable(paths[1])))
        assert lines == ["t", f"{'Path':<{width}}  V  Who  Why",
                         f"{'a':<{width}}  1  ann  fix\\x1b[2J",
                         f"{printable(paths[1]):<{width}}  2  ben  ok", "d"]


def test_piped_tables_have_no_trailing_spaces_and_escape_cells(capsys: Any) -> None:
    table(("Path", "Size", "Message"), [["a", "", ""], ["b\x1b[2J", "1 B", "[red]x"]],
          title="t\x07")
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["t\\x07", "Path      Size  Message", "a", "b\\x1b[2J  1 B   [red]x"]


def test_large_tables_are_plain_text_too(capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(output, "LARGE_TABLE", 1)
    table(("A", "B"), [["1", "x"], ["22", "y\x1b"]])
    assert capsys.readouterr().out == "A   B\n1   x\n22  y\\x1b\n"


@pytest.mark.parametrize(("number", "noun", "nouns", "text"), [
    (1, "directory", "directories", "1 directory"),
    (0, "directory", "directories", "0 directories"),
    (1, "file", None, "1 file"),
    (1200, "file", None, "1,200 files"),
])
def test_plural(number: int, noun: str, nouns: str | None, text: str) -> None:
    assert plural(number, noun, nouns) == text

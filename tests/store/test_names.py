"""Which names a dataset can hold, and how the others are shown."""

from __future__ import annotations

import json
import os

import pytest

from workspace.store.names import shown, storable


@pytest.mark.parametrize("raw", [b"plain.csv", b"caf\xc3\xa9 menu.csv", b"\xf0\x9f\x90\x88.png",
                                 b"back\\slash", b"a b/c d", b"\xc2\xa0nbsp"])
def test_printable_utf8_is_storable_and_shown_as_is(raw: bytes) -> None:
    name = os.fsdecode(raw)
    assert storable(name) and shown(name) == name


@pytest.mark.parametrize(("raw", "expected"), [
    (b"\xff\xfe.csv", "\\xff\\xfe.csv"),
    (b"caf\xe9.csv", "caf\\xe9.csv"),  # Latin-1, not UTF-8
    (b"a\nb", "a\\nb"), (b"a\tb", "a\\tb"), (b"a\rb", "a\\rb"),
    (b"\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"), (b"del\x7f", "del\\x7f"),
    (b"c1\xc2\x9b", "c1\\u009b"),
])
def test_bad_bytes_and_controls_are_refused_and_escaped(raw: bytes, expected: str) -> None:
    name = os.fsdecode(raw)
    assert not storable(name)
    assert shown(name) == expected
    json.dumps(shown(name)).encode("utf-8")  # safe to send and to print


def test_a_lone_surrogate_from_json_is_escaped_too() -> None:
    assert not storable("x\ud800")
    assert shown("x\ud800") == "x\\ud800"

"""Which file names a dataset can hold, and how to show one that it cannot.

A path in a manifest crosses every boundary the project has: JSON (the API,
``--json``), PostgreSQL ``text`` (which cannot hold invalid UTF-8), audit
events, git-tracked pointer files, terminals, and later S3 keys (UTF-8 by
definition). So a storable name is valid UTF-8 with no control character:
no C0 (U+0000-U+001F, newline and tab included), DEL, or C1 (U+0080-U+009F,
which some terminals read as CSI). Python hands us an undecodable byte as a
lone surrogate (``os.fsdecode``'s ``surrogateescape``), so "valid UTF-8"
means "no surrogate". Everything else (spaces, accents, emoji, backslashes)
is fine. docs/design.md ("File names") says why such names are refused
rather than stored in an escaped form.
"""

from __future__ import annotations

import re

_UNSTORABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def storable(path: str) -> bool:
    """True if ``path`` (as Python decoded it from the file system) can be a dataset path."""
    return _UNSTORABLE.search(path) is None


def shown(path: str) -> str:
    """``path`` made safe to print and to send as JSON: bytes and controls as escapes.

    An undecodable byte becomes ``\\xff``, a control character ``\\n``,
    ``\\x1b`` or ``\\u009b``. A storable path is returned unchanged.
    """
    return _UNSTORABLE.sub(_escape, path)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape's stand-in for the byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"

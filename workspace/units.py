"""Durations and sizes as people write them (``24h``, ``30d``, ``10GiB``), shared by the
settings, the daemon's request checks and the CLI. Imports only ``errors``.
"""

from __future__ import annotations

import re

from workspace.errors import InvalidInput

_DURATION = re.compile(r"(\d+)\s*([smhdw]?)")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b?)", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}


def parse_duration(value: object) -> int:
    """``90``, ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` -> seconds (a plain number is seconds)."""
    if isinstance(value, bool):
        raise _bad_duration(value)
    if isinstance(value, int):
        if value < 0:
            raise _bad_duration(value)
        return value
    match = _DURATION.fullmatch(str(value).strip().lower())
    if match is None:
        raise _bad_duration(value)
    return int(match.group(1)) * _SECONDS[match.group(2)]


def parse_size(value: object) -> int:
    """``1048576``, ``512M``, ``10GiB``, ``1.5T`` -> bytes (binary units: 1K = 1024)."""
    if isinstance(value, bool):
        raise _bad_size(value)
    if isinstance(value, int):
        if value < 0:
            raise _bad_size(value)
        return value
    match = _SIZE.fullmatch(str(value).strip())
    if match is None or (match.group(3) and not match.group(2) and match.group(3) != "B"
                         and match.group(3) != "b"):
        raise _bad_size(value)
    number, power = float(match.group(1)), _POWERS[match.group(2).lower()]
    return int(number * 1024**power)


def _bad_duration(value: object) -> InvalidInput:
    return InvalidInput(f"{value!r} is not a duration",
                        hint="use seconds or a number with s, m, h, d or w: 90, 30m, 24h, 7d, 2w")


def _bad_size(value: object) -> InvalidInput:
    return InvalidInput(f"{value!r} is not a size",
                        hint="use bytes or a number with K, M, G, T (binary): 512M, 10GiB, 1.5T")

"""Times as people type and read them; the daemon speaks ISO 8601 in UTC only."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from workspace.errors import InvalidInput

_AGO = re.compile(r"(\d+)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, *, now: datetime | None = None) -> str:
    """`7d`, `12h`, `30m`, `2w` or an ISO date/time (local if no zone) -> ISO UTC."""
    match = _AGO.fullmatch(text.strip())
    if match:
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        moment = (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    else:
        moment = _parse_iso(text.strip())
    return iso_utc(moment)


def iso_utc(moment: datetime) -> str:
    """The API's time format: `2026-11-21T19:20:15.123456Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def short_time(value: object) -> str:
    """An API timestamp as local `YYYY-MM-DD HH:MM` (unparseable values are shown as is)."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # time.localtime rather than astimezone(): half the cost, for the 10,000 versions
    # a big `ws blame` describes
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(moment.timestamp()))


def _parse_iso(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"--since {text!r} is neither a duration nor an ISO date",
            hint="use e.g. 30m, 12h, 7d, 2w, 2026-11-01 or 2026-11-01T09:00",
        ) from exc
    return moment if moment.tzinfo is not None else moment.astimezone()

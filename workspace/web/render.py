"""HTML rendering: the only module that imports jinja2.

Templates (``templates/``) only present what a handler gives them: no query,
no policy decision, no formatting rule of their own beyond the filters here.
Autoescaping is on for every template, so a file name or commit message is
always shown as text, never as markup.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
PALETTE = 12  # line-blame colours (static/style.css: .v0 ... .v11)
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


@functools.cache
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(size=human_size, when=short_time, query=query_string,
                       count=thousands)
    return env


def page(request: Request, template: str, context: Mapping[str, Any], *,
         status: int = 200) -> HTMLResponse:
    """Render ``template`` with ``context`` plus what every page shows (``chrome``)."""
    chrome = getattr(request.state, "chrome", None) or {}
    values = {"root": request.scope.get("root_path", ""), "user": None, "nav": [],
              "csrf": None, **chrome, **context}
    html = _environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status)


def human_size(value: int | None) -> str:
    """1536 -> ``1.5 KiB``; bytes below 1 KiB exactly."""
    if value is None:
        return ""
    size, unit = float(value), 0
    while size >= 1024 and unit < len(_UNITS) - 1:
        size, unit = size / 1024, unit + 1
    return f"{int(size)} B" if unit == 0 else f"{size:.1f} {_UNITS[unit]}"


def short_time(value: datetime | None) -> str:
    """UTC, to the minute, with its zone spelled out (the dashboard has no local time)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def thousands(value: int) -> str:
    return f"{value:,}"


def query_string(values: Mapping[str, Any]) -> str:
    """``{"ref": "a@2", "q": None}`` -> ``ref=a%402`` (empty values left out)."""
    return urllib.parse.urlencode({k: v for k, v in values.items() if v not in (None, "")})

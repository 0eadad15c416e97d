"""The audit log with the CLI's filters, and chain verification for audit admins.

Who may see what is ``GET /v1/audit``'s rule (``resources.audit_scope``): your
own events, the events of a dataset you may read, or (admins) everything.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from workspace.api.authz import require
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep
from workspace.api.resources import ADMIN_AUDIT, admin, audit_scope
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.audit.verify import verify_log
from workspace.db.queries import audit as queries
from workspace.errors import InvalidInput
from workspace.web.nav import allowed
from workspace.web.render import page

router = APIRouter()
Text = Annotated[str | None, Query(max_length=200)]
_AGO = re.compile(r"(\d{1,6})\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_LONG = 24  # characters of one detail value before it is shortened (digests, hashes)


@router.get("/audit", dependencies=[require(audit_scope)])
def audit(request: Request, caller: CallerDep, ctx: ContextDep, access: AccessDep,
          dataset: Text = None,
          user: Annotated[str | None, Query(max_length=64)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None,
          path: Annotated[str | None, Query(max_length=4096)] = None,
          since: Text = None, until: Text = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> HTMLResponse:
    """Newest first, as `ws audit` (since/until: 30m, 12h, 7d, 2w or an ISO time in UTC)."""
    filters = queries.Filters(actor=user or None, dataset=dataset or None,
                              action=action or None, path_prefix=path or None,
                              since=moment("since", since), until=moment("until", until))
    with ctx.db.read() as session:
        events = queries.search(session, filters, limit=limit)
    form = {"dataset": dataset, "user": user, "action": action, "path": path,
            "since": since, "until": until, "limit": limit}
    return page(request, "audit.html", {
        "events": [(event, summary(event.detail)) for event in events], "form": form,
        "can_verify": allowed(caller, access, "admin", ADMIN_AUDIT)})


@router.get("/audit/verify", dependencies=[require(admin(ADMIN_AUDIT))])
def audit_verify(request: Request, ctx: ContextDep, settings: SettingsDep) -> HTMLResponse:
    """`ws audit verify` in the browser: the whole chain rehashed against the checkpoints
    (the same check as the route: a missing checkpoint file is a failure too)."""
    log = load_checkpoints(checkpoint_file(settings.audit_log_path))
    report = verify_log(ctx.db, log).to_dict()
    return page(request, "verify.html", {"report": report, "unreadable": log.unreadable_lines,
                                         "file": str(log.path)})


def summary(detail: str) -> str:
    """An event's detail for a table cell: ``key: value`` pairs, long values shortened (the
    full JSON is the cell's title)."""
    try:
        data = json.loads(detail)
    except (TypeError, ValueError):
        return detail
    if not isinstance(data, dict):
        return str(data)
    return " · ".join(f"{key}: {_short(value)}" for key, value in data.items()
                      if value not in (None, "", [], {}))


def _short(value: object) -> str:
    if isinstance(value, list):
        shown = ", ".join(_short(item) for item in value[:3])
        return shown + (f" (+{len(value) - 3} more)" if len(value) > 3 else "")
    if isinstance(value, dict):
        return ", ".join(f"{key} {_short(item)}" for key, item in value.items())
    text = str(value)
    return text if len(text) <= _LONG else text[:_LONG - 1] + "…"


def moment(name: str, text: str | None, *, now: datetime | None = None) -> datetime | None:
    """``7d`` (ago), or an ISO date/time (UTC unless it names a zone); empty means none."""
    if text is None or not text.strip():
        return None
    match = _AGO.fullmatch(text.strip())
    if match:
        ago = timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])
        return (now or datetime.now(UTC)) - ago
    try:
        found = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{name} {text!r} is neither a duration nor an ISO time",
                           hint="use e.g. 30m, 12h, 7d, 2w, 2026-11-01 or "
                           "2026-11-01T09:00 (UTC)") from None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)

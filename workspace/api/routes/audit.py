"""The audit trail: filtered reads (``GET /v1/audit``), chain verification, and an
admin's reset of the checkpoint file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from workspace.api.authz import Check, Facts, require
from workspace.api.deps import CallerDep, ContextDep, get_settings
from workspace.api.resources import ADMIN_AUDIT, audit_scope
from workspace.api.schemas import Body, encode
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.audit.reset import MAX_REASON, reset_checkpoints
from workspace.audit.verify import ensure_intact, verify_log
from workspace.config import Settings
from workspace.db.models import AuditEvent
from workspace.db.queries import audit as queries
from workspace.errors import InvalidInput

router = APIRouter()
Text = Annotated[str | None, Query(max_length=200)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class ResetBody(Body):
    reason: str = Field(max_length=MAX_REASON)


def admin_on_audit(facts: Facts) -> Sequence[Check]:
    """Verification reads every event (and costs seconds), and only an admin may vouch
    for a new checkpoint file: for audit admins only."""
    return [("admin", ADMIN_AUDIT)]


@router.get("/audit", dependencies=[require(audit_scope)])
def audit(ctx: ContextDep, dataset: Text = None,
          user: Annotated[str | None, Query(max_length=64)] = None,
          action: Annotated[str | None, Query(max_length=64)] = None,
          path: Annotated[str | None, Query(max_length=4096)] = None,
          since: datetime | None = None, until: datetime | None = None,
          limit: int = Query(default=100, ge=1, le=10_000)) -> Any:
    """Newest first; every filter is optional (``path`` is a prefix of the event's path)."""
    filters = queries.Filters(actor=user, dataset=dataset, action=action, path_prefix=path,
                              since=_aware(since, "since"), until=_aware(until, "until"))
    with ctx.db.read() as session:
        events = queries.search(session, filters, limit=limit)
        return encode({"events": [_event(e) for e in events]})


@router.get("/audit/verify", dependencies=[require(admin_on_audit)])
def verify_chain(ctx: ContextDep, settings: SettingsDep) -> Any:
    """The whole chain rehashed and held against the checkpoints; 409 names the first bad
    event (``audit_tampered``, exit 8 in the CLI)."""
    log = load_checkpoints(checkpoint_file(settings.audit_log_path))
    report = ensure_intact(verify_log(ctx.db, log))
    return encode({**report.to_dict(), "checkpoint_file": str(log.path),
                   "unreadable_checkpoint_lines": log.unreadable_lines})


@router.post("/audit/checkpoints/reset", dependencies=[require(admin_on_audit)])
def reset(body: ResetBody, caller: CallerDep, ctx: ContextDep, settings: SettingsDep) -> Any:
    """Set the checkpoint file aside and start a new one at the head, with the reason in
    the log (``audit:checkpoint:reset``)."""
    done = reset_checkpoints(ctx.db, settings.audit_log_path, actor=caller.name,
                             reason=body.reason)
    return encode({"checkpoint_file": str(done.path), "previous": done.previous,
                   "set_aside": None if done.set_aside is None else str(done.set_aside),
                   "checkpoint": {"sequence": done.checkpoint.sequence,
                                  "hash": done.checkpoint.hash, "at": done.checkpoint.at}})


def _aware(moment: datetime | None, name: str) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise InvalidInput(f"{name} has no time zone",
                           hint="send ISO 8601 with a zone, e.g. 2026-11-01T09:00:00Z")
    return moment


def _event(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": event.at, "actor": event.actor, "action": event.action,
            "dataset": event.dataset, "version": event.version, "workspace": event.workspace,
            "path": event.path, "detail": _detail(event.detail), "hash": event.hash}


def _detail(text: str) -> Any:
    """The detail object; a row edited by hand into non-JSON is shown as its raw text."""
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text

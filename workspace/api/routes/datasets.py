"""Read views of datasets (list, ls, log, diff, blame), tags, and the audit trail."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from workspace.api.deps import CallerDep, ContextDep
from workspace.api.schemas import TagBody, encode
from workspace.datasets import history
from workspace.db.queries import audit as aq
from workspace.db.queries import datasets as dq
from workspace.errors import InvalidInput
from workspace.refs import parse_ref
from workspace.workspaces import registry

router = APIRouter()
RefQuery = Annotated[str, Query(max_length=400)]
PrefixQuery = Annotated[str | None, Query(max_length=4096)]

@router.get("/datasets")
def list_datasets(caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.read() as session:
        return encode({"datasets": [{"name": v.dataset, "latest": v}
                                    for v in history.list_datasets(session)]})

@router.get("/ls")
def list_files(caller: CallerDep, ctx: ContextDep, ref: RefQuery,
               prefix: PrefixQuery = None) -> Any:
    with ctx.db.read() as session:
        return encode(history.list_files(session, parse_ref(ref), prefix))

@router.post("/tags", status_code=201)
def tag(body: TagBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        return encode(history.tag(session, caller, parse_ref(body.ref), body.tag))

@router.get("/log")
def log(caller: CallerDep, ctx: ContextDep, ref: str | None = Query(default=None, max_length=400),
        path: str | None = Query(default=None, max_length=4096)) -> Any:
    if (ref is None) == (path is None):
        raise InvalidInput("give exactly one of ref (a dataset) or path (a workspace path)")
    with ctx.db.read() as session:
        if ref is not None:
            return encode(history.log(session, parse_ref(ref)))
        dataset, inner = _dataset_path(session, caller, path or "")
        if inner == "":
            return encode(history.log(session, parse_ref(dataset)))
        return encode(history.path_log(session, dataset, inner))

@router.get("/diff")
def diff(caller: CallerDep, ctx: ContextDep, a: RefQuery, b: RefQuery) -> Any:
    with ctx.db.read() as session:
        return encode(history.diff(session, parse_ref(a), parse_ref(b)))

@router.get("/blame")
def blame(caller: CallerDep, ctx: ContextDep, ref: RefQuery,
          prefix: PrefixQuery = None) -> Any:
    with ctx.db.read() as session:
        return encode(history.blame(session, parse_ref(ref), prefix))

@router.get("/audit")
def audit(caller: CallerDep, ctx: ContextDep,
          dataset: str | None = Query(default=None, max_length=200),
          user: str | None = Query(default=None, max_length=64),
          action: str | None = Query(default=None, max_length=64),
          since: datetime | None = None,
          limit: int = Query(default=100, ge=1, le=10_000)) -> Any:
    with ctx.db.read() as session:
        events = aq.search(session, dataset=dataset, actor=user, action=action, since=since,
                           limit=limit)
        return encode({"events": [_event(e) for e in events]})

def _dataset_path(session: Any, caller: Any, path: str) -> tuple[str, str]:
    """(dataset, path inside it) for a workspace path inside a tracked path."""
    found = registry.locate(session, caller, path)
    if found.tracked is None or found.inner is None:
        raise InvalidInput(f"{path} is not inside a tracked path",
                           hint="`ws status` lists tracked paths; or give a dataset name")
    name = dq.dataset_names(session, [found.tracked.dataset_id])[found.tracked.dataset_id]
    inner = found.inner
    if found.tracked.kind == "file":
        live = dq.live_entries(session, found.tracked.dataset_id)
        inner = live[0].path if len(live) == 1 else inner
    return name, inner

def _event(event: Any) -> dict[str, Any]:
    return {"id": event.id, "at": event.at, "actor": event.actor, "action": event.action,
            "dataset": event.dataset, "version": event.version, "workspace": event.workspace,
            "path": event.path, "detail": json.loads(event.detail), "hash": event.hash}

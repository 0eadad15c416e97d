"""Health, workspace registration and lookup, and status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from workspace import __version__
from workspace.api.deps import CallerDep, ContextDep
from workspace.api.schemas import RegisterBody, encode
from workspace.db.queries import datasets as dq
from workspace.db.queries import workspaces as wq
from workspace.workspaces import registry, sync
from workspace.workspaces.results import tracked_info

router = APIRouter()


@router.get("/health")
def health(caller: CallerDep, ctx: ContextDep) -> dict[str, Any]:
    return {"version": __version__, "user": caller.name, "mode": ctx.mode}


@router.post("/workspaces", status_code=201)
def register(body: RegisterBody, caller: CallerDep, ctx: ContextDep) -> dict[str, Any]:
    with ctx.db.write() as session:
        workspace, created = registry.register(session, caller, body.path)
        return {"workspace": _workspace(workspace, caller.name), "created": created}


@router.get("/workspaces/locate")
def locate(caller: CallerDep, ctx: ContextDep, path: str = Query(max_length=4096)) -> Any:
    with ctx.db.read() as session:
        found = registry.locate(session, caller, path)
        tracked = wq.tracked_paths(session, found.workspace.id)
        names = dq.dataset_names(session, [t.dataset_id for t in tracked])
        infos = {t.id: tracked_info(found.workspace, t, names[t.dataset_id]) for t in tracked}
        target = infos[found.tracked.id] if found.tracked is not None else None
        return encode({"workspace": _workspace(found.workspace, caller.name),
                       "tracked": list(infos.values()), "target": target,
                       "relpath": found.inner})


@router.get("/status")
def status(caller: CallerDep, ctx: ContextDep, path: str = Query(max_length=4096)) -> Any:
    return sync.status(ctx, caller, path=path)


def _workspace(workspace: Any, owner: str) -> dict[str, Any]:
    return {"path": workspace.path, "owner": owner, "created_at": workspace.created_at}

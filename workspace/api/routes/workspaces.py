"""Health, workspace registration and lookup, and status."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Query

from workspace import __version__
from workspace.api.authz import authenticated, readable
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep
from workspace.api.schemas import RegisterBody, encode
from workspace.auth.identity import unix_name
from workspace.db.queries import datasets as dq
from workspace.db.queries import workspaces as wq
from workspace.workspaces import registry, sync
from workspace.workspaces.results import tracked_info

router = APIRouter()


@router.get("/health", dependencies=[authenticated()])
def health(caller: CallerDep, ctx: ContextDep, settings: SettingsDep) -> dict[str, Any]:
    uid = os.geteuid()  # `ws init` grants this user access when it is not the caller
    return {"version": __version__, "user": caller.name, "mode": ctx.mode,
            "daemon": {"user": unix_name(uid), "uid": uid},
            "lock_on_unlock": settings.lock_on_unlock}


@router.post("/workspaces", status_code=201, dependencies=[authenticated()])
def register(body: RegisterBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        workspace, created = registry.register(session, caller, body.path)
        return encode({"workspace": _workspace(workspace, caller.name), "created": created},
                      status_code=201)


@router.delete("/workspaces", dependencies=[authenticated()])
def unregister(caller: CallerDep, ctx: ContextDep, path: str = Query(max_length=4096),
               force: bool = False) -> Any:
    """`ws deinit`: forget the workspace; the answer lists the caller's remaining ones."""
    with ctx.db.write() as session:
        workspace, dropped = registry.unregister(session, caller, path, force=force)
        remaining = [w.path for w in wq.of_owner(session, caller.user_id)]
        return encode({"workspace": _workspace(workspace, caller.name), "untracked": dropped,
                       "remaining": remaining})


@router.get("/workspaces/locate", dependencies=[authenticated()])
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


@router.get("/status", dependencies=[authenticated()])
def status(caller: CallerDep, ctx: ContextDep, access: AccessDep,
           path: str = Query(max_length=4096)) -> Any:
    """Only the tracked paths whose dataset the caller may still read; the others are
    listed apart (``unreadable``), without their changes, so that losing a role is said."""
    answer = sync.status(ctx, caller, path=path)
    can_read = readable(caller, access)
    entries = answer["tracked"]
    answer["tracked"] = [entry for entry in entries if can_read(entry["dataset"])]
    answer["unreadable"] = [{key: entry[key] for key in ("path", "dataset", "version")}
                            for entry in entries if not can_read(entry["dataset"])]
    return answer


def _workspace(workspace: Any, owner: str) -> dict[str, Any]:
    return {"path": workspace.path, "owner": owner, "created_at": workspace.created_at}

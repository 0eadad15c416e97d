"""File locks: take, release (or break, with ``force``), list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from workspace.api.authz import readable, require
from workspace.api.deps import AccessDep, CallerDep, ContextDep
from workspace.api.resources import lock_scope, refs_in_query
from workspace.api.schemas import LockBody, LockReleaseBody, encode
from workspace.datasets import locks
from workspace.refs import validate_name
from workspace.workspaces import lockpaths

router = APIRouter()


@router.post("/locks", dependencies=[require(lock_scope)])
def take(body: LockBody, caller: CallerDep, ctx: ContextDep) -> Any:
    """All or nothing, across datasets: one path held by someone else takes none."""
    with ctx.db.write() as session:
        answers = [locks.take(session, caller, dataset=name, paths=paths)
                   for name, paths in _targets(session, caller, body).items()]
        return encode({"locks": [i for a in answers for i in a["locks"]],
                       "taken": sum(a["taken"] for a in answers),
                       "already_held": sum(a["already_held"] for a in answers)})


@router.post("/locks/release", dependencies=[require(lock_scope)])
def release(body: LockReleaseBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        answers = [locks.release(session, caller, dataset=name, paths=paths, force=body.force)
                   for name, paths in _targets(session, caller, body).items()]
        return encode({"released": [i for a in answers for i in a["released"]],
                       "broken": [i for a in answers for i in a["broken"]]})


@router.get("/locks", dependencies=[require(refs_in_query("read", "dataset"))])
def listed(caller: CallerDep, ctx: ContextDep, access: AccessDep,
           dataset: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    """Every lock on the datasets the caller may read, or on one dataset."""
    with ctx.db.read() as session:
        found = locks.listed(session, validate_name(dataset) if dataset else None)
    can_read = readable(caller, access)
    return encode({"locks": [lock for lock in found if can_read(lock.dataset)]})


def _targets(session: Any, caller: Any, body: LockBody) -> dict[str, list[str]]:
    if body.dataset is not None:
        return {validate_name(body.dataset): list(body.paths)}
    return lockpaths.by_dataset(session, caller, body.paths)

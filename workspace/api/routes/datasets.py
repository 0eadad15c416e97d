"""Read views of datasets (list, ls, log, diff, blame) and tags (the audit trail: audit.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from workspace.api.authz import authenticated, readable, require
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep
from workspace.api.resources import log_target, ref_in_body, refs_in_query
from workspace.api.schemas import TagBody, encode
from workspace.datasets import history, linehistory
from workspace.datasets.linehistory import LineBlameCache
from workspace.db.queries import datasets as dq
from workspace.errors import InvalidInput
from workspace.refs import parse_ref
from workspace.workspaces import registry

router = APIRouter()
RefQuery = Annotated[str, Query(max_length=400)]
PrefixQuery = Annotated[str | None, Query(max_length=4096)]

@router.get("/datasets", dependencies=[authenticated()])
def list_datasets(caller: CallerDep, ctx: ContextDep, access: AccessDep) -> Any:
    """The datasets the caller may read, and the admins to ask for a role on others."""
    with ctx.db.read() as session:
        infos = history.list_datasets(session)
        admins = access.authorizer.admins(session) if access.authorizer is not None else []
    can_read = readable(caller, access)
    return encode({"datasets": [{"name": v.dataset, "latest": v} for v in infos
                                if can_read(v.dataset)], "admins": admins})

@router.get("/ls", dependencies=[require(refs_in_query("read", "ref"))])
def list_files(caller: CallerDep, ctx: ContextDep, ref: RefQuery,
               prefix: PrefixQuery = None) -> Any:
    with ctx.db.read() as session:
        return encode(history.list_files(session, parse_ref(ref), prefix,
                                          ctx.store.store_id))

@router.post("/tags", status_code=201, dependencies=[require(ref_in_body("maintain"))])
def tag(body: TagBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        return encode(history.tag(session, caller, parse_ref(body.ref), body.tag),
                      status_code=201)

@router.get("/log", dependencies=[require(log_target)])
def log(caller: CallerDep, ctx: ContextDep, ref: str | None = Query(default=None, max_length=400),
        path: str | None = Query(default=None, max_length=4096)) -> Any:
    if (ref is None) == (path is None):
        raise InvalidInput("give exactly one of ref (a dataset) or path (a workspace path)")
    with ctx.db.read() as session:
        if ref is not None:
            return encode(history.log(session, parse_ref(ref), ctx.store.store_id))
        dataset, inner, _ = _dataset_path(session, caller, path or "")
        if inner == "":
            return encode(history.log(session, parse_ref(dataset), ctx.store.store_id))
        return encode(history.path_log(session, dataset, inner))

@router.get("/diff", dependencies=[require(refs_in_query("read", "a", "b"))])
def diff(caller: CallerDep, ctx: ContextDep, a: RefQuery, b: RefQuery) -> Any:
    with ctx.db.read() as session:
        return encode(history.diff(session, parse_ref(a), parse_ref(b)))

@router.get("/blame", dependencies=[require(refs_in_query("read", "ref"))])
def blame(caller: CallerDep, ctx: ContextDep, ref: RefQuery,
          prefix: PrefixQuery = None, oids: bool = True) -> Any:
    with ctx.db.read() as session:
        return encode(history.blame(session, parse_ref(ref), prefix, ctx.store.store_id,
                                    oids=oids))

@router.get("/blame/lines", dependencies=[require(log_target)])
def blame_lines(caller: CallerDep, ctx: ContextDep, settings: SettingsDep,
                ref: str | None = Query(default=None, max_length=400),
                file: str | None = Query(default=None, max_length=4096),
                path: str | None = Query(default=None, max_length=4096)) -> Any:
    """Each line of one text file: give ``path`` (in a workspace) or ``ref`` and ``file``."""
    cache = LineBlameCache(settings.home / "cache" / "lineblame")
    with ctx.db.read() as session:
        if path is not None:
            dataset, file, version = _dataset_path(session, caller, path)
            ref = f"{dataset}@{version}"
        if not ref or not file:
            raise InvalidInput("give path (a file in a workspace), or ref and file")
        return encode(linehistory.line_blame(session, ctx.store, cache, parse_ref(ref), file))


def _dataset_path(session: Any, caller: Any, path: str) -> tuple[str, str, int]:
    """(dataset, path inside it, version held) for a workspace path inside a tracked path."""
    found = registry.locate(session, caller, path)
    if found.tracked is None or found.inner is None:
        raise InvalidInput(f"{path} is not inside a tracked path",
                           hint="`ws status` lists tracked paths; or give a dataset name")
    name = dq.dataset_names(session, [found.tracked.dataset_id])[found.tracked.dataset_id]
    inner = found.inner
    if found.tracked.kind == "file":
        live = dq.live_entries(session, found.tracked.dataset_id)
        inner = live[0].path if len(live) == 1 else inner
    return name, inner, found.tracked.version

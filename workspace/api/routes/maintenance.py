"""The store over time: gc, fsck, prune, rm, du and quotas (services in ``maintenance/``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from workspace.api.authz import authenticated, readable, require
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep
from workspace.api.resources import ADMIN_STORE, admin, dataset_in_body, ref_in_body
from workspace.api.schemas import FsckBody, GcBody, PruneBody, QuotaBody, RemoveBody, encode
from workspace.api.streaming import run_streaming
from workspace.maintenance import fsck, gc, quotas, retention, usage
from workspace.policy.values import matches
from workspace.refs import parse_ref, validate_name
from workspace.remotes.backend import RemoteOptions
from workspace.units import parse_duration

router = APIRouter()


@router.post("/gc", dependencies=[require(admin(ADMIN_STORE))])
async def collect(body: GcBody, caller: CallerDep, ctx: ContextDep,
                  settings: SettingsDep) -> StreamingResponse:
    grace = settings.gc_grace if body.grace is None else parse_duration(body.grace)
    evict = RemoteOptions.from_settings(settings) if body.evict else None
    return await run_streaming(lambda reporter: gc.collect(
        ctx, caller, grace=grace, dry_run=body.dry_run, rules=settings.retention,
        reporter=reporter, evict=evict))


@router.post("/fsck", dependencies=[require(admin(ADMIN_STORE))])
async def check(body: FsckBody, caller: CallerDep, ctx: ContextDep,
                settings: SettingsDep) -> StreamingResponse:
    remote = RemoteOptions.from_settings(settings)
    return await run_streaming(lambda reporter: fsck.check(
        ctx, caller, read_data=body.read_data, repair=body.repair, reporter=reporter,
        remote=remote))


@router.post("/prune", dependencies=[require(dataset_in_body("maintain"))])
def prune(body: PruneBody, caller: CallerDep, ctx: ContextDep) -> Any:
    older = None if body.older_than is None else parse_duration(body.older_than)
    with ctx.db.write() as session:
        return encode(retention.prune(
            session, caller, dataset=validate_name(body.dataset), keep_last=body.keep_last,
            older_than=older, dry_run=body.dry_run,
            holds=retention.Holds(force=body.force, keep_tagged=body.keep_tagged)))


@router.post("/rm", dependencies=[require(ref_in_body("maintain"))])
def remove(body: RemoveBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        return encode(retention.remove(
            session, caller, ref=parse_ref(body.ref), dry_run=body.dry_run,
            holds=retention.Holds(force=body.force, keep_tagged=body.keep_tagged)))


@router.get("/du", dependencies=[authenticated()])
def disk_usage(caller: CallerDep, ctx: ContextDep, access: AccessDep,
               pattern: Annotated[str | None, Query(max_length=200)] = None,
               by: Literal["dataset", "user"] = "dataset") -> Any:
    """Only datasets the caller may read (and that match ``pattern``) are counted."""
    can_read = readable(caller, access)
    with ctx.db.read() as session:
        return encode(usage.disk_usage(session, by=by, include=lambda name: can_read(name) and (
            pattern is None or matches(name, pattern))))


@router.get("/quotas", dependencies=[require(admin(ADMIN_STORE))])
def list_quotas(ctx: ContextDep) -> Any:
    with ctx.db.read() as session:
        return encode(quotas.list_quotas(session))


@router.post("/quotas", dependencies=[require(admin(ADMIN_STORE))])
def set_quota(body: QuotaBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        return encode(quotas.set_quota(session, caller, body.pattern, body.size))


@router.delete("/quotas", dependencies=[require(admin(ADMIN_STORE))])
def remove_quota(caller: CallerDep, ctx: ContextDep,
                 pattern: Annotated[str, Query(max_length=200)]) -> Any:
    with ctx.db.write() as session:
        return encode(quotas.remove_quota(session, caller, pattern))

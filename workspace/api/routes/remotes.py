"""Remotes: configuration (admin), push and pull (streamed progress), remote status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import Field

from workspace.api.authz import authenticated, readable, require
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep
from workspace.api.resources import (
    ADMIN_REMOTES,
    admin,
    push_scope,
    ref_in_body,
    refs_in_query,
)
from workspace.api.schemas import Body, encode
from workspace.api.streaming import run_streaming
from workspace.remotes import manage, pull, push, status
from workspace.remotes.backend import RemoteOptions

router = APIRouter()
NameField = Field(max_length=64)


class RemoteBody(Body):
    name: str = NameField
    url: str = Field(max_length=1024)
    default: bool = False


class PushBody(Body):
    ref: str | None = Field(default=None, max_length=400)
    all: bool = False
    remote: str | None = NameField


class PullBody(Body):
    ref: str = Field(max_length=400)
    remote: str | None = NameField


@router.get("/remotes", dependencies=[authenticated()])
def list_remotes(ctx: ContextDep) -> Any:
    return encode({"remotes": manage.listing(ctx.db)})


@router.post("/remotes", status_code=201, dependencies=[require(admin(ADMIN_REMOTES))])
def add_remote(body: RemoteBody, caller: CallerDep, ctx: ContextDep,
               settings: SettingsDep) -> Any:
    added = manage.add(ctx.db, caller, RemoteOptions.from_settings(settings), name=body.name,
                       url=body.url, default=body.default)
    return encode({"remote": added}, status_code=201)


@router.delete("/remotes", dependencies=[require(admin(ADMIN_REMOTES))])
def remove_remote(caller: CallerDep, ctx: ContextDep,
                  name: str = Query(max_length=64)) -> Any:
    return encode({"remote": manage.remove(ctx.db, caller, name)})


@router.get("/remotes/status", dependencies=[require(refs_in_query("read", "dataset"))])
def remote_status(caller: CallerDep, ctx: ContextDep, access: AccessDep, settings: SettingsDep,
                  remote: str | None = Query(default=None, max_length=64),
                  dataset: str | None = Query(default=None, max_length=200)) -> Any:
    return encode(status.status(ctx, RemoteOptions.from_settings(settings), remote=remote,
                                dataset=dataset, may_read=readable(caller, access)))


@router.post("/push", dependencies=[require(push_scope)])
async def push_datasets(body: PushBody, caller: CallerDep, ctx: ContextDep, access: AccessDep,
                        settings: SettingsDep) -> StreamingResponse:
    options = RemoteOptions.from_settings(settings)
    authorizer = access.authorizer

    def may_write(name: str) -> bool:
        return authorizer.check(caller.name, caller.groups, name, "write").allowed

    return await run_streaming(lambda reporter: push.push(
        ctx, caller, options, ref=body.ref, all_datasets=body.all, remote=body.remote,
        may_write=may_write, reporter=reporter))


@router.post("/pull", dependencies=[require(ref_in_body("write"))])
async def pull_dataset(body: PullBody, caller: CallerDep, ctx: ContextDep,
                       settings: SettingsDep) -> StreamingResponse:
    options = RemoteOptions.from_settings(settings)
    return await run_streaming(lambda reporter: pull.pull(
        ctx, caller, options, ref=body.ref, remote=body.remote, reporter=reporter))

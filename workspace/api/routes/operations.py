"""The long, file-moving operations, streamed as NDJSON progress (see api/streaming.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from workspace.api.authz import require
from workspace.api.deps import CallerDep, ContextDep
from workspace.api.resources import dataset_in_body, ref_in_body, tracked_dataset
from workspace.api.schemas import AddBody, CheckoutBody, CommitBody, GetBody
from workspace.api.streaming import run_streaming
from workspace.workspaces import commit as commits
from workspace.workspaces import sync

router = APIRouter()


@router.post("/add", dependencies=[require(dataset_in_body("write"))])
async def add(body: AddBody, caller: CallerDep, ctx: ContextDep) -> StreamingResponse:
    git = body.git.info() if body.git else None
    return await run_streaming(lambda reporter: commits.add(
        ctx, caller, path=body.path, dataset=body.dataset, message=body.message,
        skip_symlinks=body.skip_symlinks, git=git, reporter=reporter))


@router.post("/commit", dependencies=[require(tracked_dataset("write"))])
async def commit(body: CommitBody, caller: CallerDep, ctx: ContextDep) -> StreamingResponse:
    git = body.git.info() if body.git else None
    return await run_streaming(lambda reporter: commits.commit(
        ctx, caller, path=body.path, message=body.message, skip_symlinks=body.skip_symlinks,
        base_version=body.base_version, git=git, reporter=reporter))


@router.post("/checkout",
             dependencies=[require(tracked_dataset("read", ref_field="ref"))])
async def checkout(body: CheckoutBody, caller: CallerDep, ctx: ContextDep) -> StreamingResponse:
    return await run_streaming(lambda reporter: sync.checkout(
        ctx, caller, path=body.path, ref=body.ref, digest=body.digest, force=body.force,
        reporter=reporter))


@router.post("/get", dependencies=[require(ref_in_body("read"))])
async def get(body: GetBody, caller: CallerDep, ctx: ContextDep) -> StreamingResponse:
    return await run_streaming(lambda reporter: sync.get(
        ctx, caller, ref=body.ref, path=body.path, digest=body.digest, force=body.force,
        reporter=reporter))

"""Aliases: set/move, remove, list, and the history of one (``at``: its version at a time)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from workspace.api.authz import require
from workspace.api.deps import AccessDep, CallerDep, ContextDep
from workspace.api.resources import alias_change, refs_in_query
from workspace.api.schemas import AliasBody, AliasRemoveBody, encode
from workspace.datasets import aliases
from workspace.errors import InvalidInput
from workspace.refs import parse_ref, validate_name

router = APIRouter()
DatasetQuery = Annotated[str, Query(max_length=200)]


@router.post("/aliases", dependencies=[require(alias_change)])
def set_alias(body: AliasBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        return encode(aliases.set_alias(session, caller, dataset=validate_name(body.dataset),
                                        name=body.name, ref=parse_ref(body.ref),
                                        message=body.message))


@router.post("/aliases/remove", dependencies=[require(alias_change)])
def remove_alias(body: AliasRemoveBody, caller: CallerDep, ctx: ContextDep) -> Any:
    with ctx.db.write() as session:
        return encode(aliases.remove_alias(session, caller, dataset=validate_name(body.dataset),
                                           name=body.name, message=body.message))


@router.get("/aliases", dependencies=[require(refs_in_query("read", "dataset"))])
def list_aliases(ctx: ContextDep, access: AccessDep, dataset: DatasetQuery) -> Any:
    with ctx.db.read() as session:
        answer = aliases.list_aliases(session, validate_name(dataset))
    for alias in answer["aliases"]:
        alias["protected"] = access.is_protected(alias["name"])
    return encode(answer)


@router.get("/aliases/log", dependencies=[require(refs_in_query("read", "dataset"))])
def alias_log(ctx: ContextDep, dataset: DatasetQuery, name: Annotated[str, Query(max_length=100)],
              at: datetime | None = None) -> Any:
    """Every move, newest first; ``at`` (ISO 8601 with a zone) adds the version named then."""
    if at is not None and at.tzinfo is None:
        raise InvalidInput("at needs a time zone", hint="e.g. 2026-11-30T12:00:00+00:00")
    with ctx.db.read() as session:
        return encode(aliases.alias_log(session, validate_name(dataset), name, at))

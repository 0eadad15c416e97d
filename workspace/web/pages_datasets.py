"""Pages about data: datasets, a dataset's versions, a version's files, diff, history, lines.

Each page declares its authorization like an API route (``api/authz.py``):
reading a dataset's pages needs ``read`` on it, the list shows only datasets
the user may read. Parameters are query parameters (``?ref=vision/cats@3``),
so the API's resolvers decide for pages exactly as for routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from workspace.api.authz import authenticated, readable, require
from workspace.api.deps import AccessDep, CallerDep, ContextDep, SettingsDep
from workspace.api.resources import refs_in_query
from workspace.datasets import browse, history, linehistory
from workspace.datasets.linehistory import LineBlameCache
from workspace.refs import parse_ref
from workspace.web.render import PALETTE, page

router = APIRouter()
RefQuery = Annotated[str, Query(max_length=400)]
PathQuery = Annotated[str, Query(max_length=4096)]
OptionalPath = Annotated[str | None, Query(max_length=4096)]
LINES_PAGE = 1000


@router.get("/", dependencies=[authenticated()])
def home(request: Request) -> RedirectResponse:
    return RedirectResponse(request.scope.get("root_path", "") + "/datasets", status_code=303)


@router.get("/datasets", dependencies=[authenticated()])
def datasets(request: Request, caller: CallerDep, ctx: ContextDep,
             access: AccessDep) -> HTMLResponse:
    with ctx.db.read() as session:
        infos = history.list_datasets(session)
    can_read = readable(caller, access)
    return page(request, "datasets.html", {"datasets": [v for v in infos if can_read(v.dataset)]})


@router.get("/dataset", dependencies=[require(refs_in_query("read", "name"))])
def dataset(request: Request, ctx: ContextDep, name: RefQuery,
            below: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    with ctx.db.read() as session:
        view = browse.versions_page(session, parse_ref(name).dataset, below=below)
    return page(request, "dataset.html", {"view": view})


@router.get("/files", dependencies=[require(refs_in_query("read", "ref"))])
def files(request: Request, ctx: ContextDep, ref: RefQuery,
          q: Annotated[str | None, Query(max_length=browse.MAX_SEARCH)] = None,
          after: OptionalPath = None, before: OptionalPath = None) -> HTMLResponse:
    """A version's files with their last change (blame), searched and paged by path."""
    with ctx.db.read() as session:
        view = browse.files_page(session, parse_ref(ref), search=q, after=after, before=before)
    return page(request, "files.html", {"view": view, "ref": ref})


@router.get("/diff", dependencies=[require(refs_in_query("read", "a", "b"))])
def diff(request: Request, ctx: ContextDep, a: RefQuery, b: RefQuery) -> HTMLResponse:
    with ctx.db.read() as session:
        view = browse.diff_page(session, parse_ref(a), parse_ref(b))
    return page(request, "diff.html", {"view": view})


@router.get("/file", dependencies=[require(refs_in_query("read", "ref"))])
def file_history(request: Request, ctx: ContextDep, ref: RefQuery,
                 file: PathQuery) -> HTMLResponse:
    """Every version that added, changed or deleted one file."""
    parsed = parse_ref(ref)
    with ctx.db.read() as session:
        found = history.path_log(session, parsed.dataset, file)
    return page(request, "file.html", {"dataset": parsed.dataset, "path": file,
                                       "changes": found["changes"]})


@router.get("/lines", dependencies=[require(refs_in_query("read", "ref"))])
def lines(request: Request, ctx: ContextDep, settings: SettingsDep, ref: RefQuery,
          file: PathQuery, start: Annotated[int, Query(ge=0)] = 0) -> HTMLResponse:
    """Line blame of a text file: each line with the version that introduced it."""
    cache = LineBlameCache(settings.home / "cache" / "lineblame")
    with ctx.db.read() as session:
        found = linehistory.line_blame(session, ctx.store, cache, parse_ref(ref), file)
    numbers = sorted(int(n) for n in found["versions"])
    colour = {n: f"v{i % PALETTE}" for i, n in enumerate(numbers)}
    legend = [(n, found["versions"][str(n)], colour[n]) for n in numbers]
    end = min(len(found["lines"]), start + LINES_PAGE)
    shown = [(i + 1, found["line_versions"][i], found["lines"][i]) for i in range(start, end)]
    return page(request, "lines.html", {
        "blame": found, "shown": shown, "colour": colour, "legend": legend, "start": start,
        "end": end, "total": len(found["lines"]), "step": LINES_PAGE})

"""``create_app``: the FastAPI application, its routers and its one error handler.

``access`` is required: an app without a policy engine cannot be built (see
``api/access.py``). Request bodies are capped before anything reads them
(``api/bodylimit.py``, setting ``max_request_body``).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from workspace import __version__
from workspace.api.access import Access
from workspace.api.bodylimit import BodyLimit
from workspace.api.fdpass import FdTickets
from workspace.api.notices import NoticeHeaders
from workspace.api.route_table import RouteLabels
from workspace.api.routes import access as access_routes
from workspace.api.routes import (
    accounts,
    aliases,
    audit,
    datasets,
    files,
    locks,
    maintenance,
    metrics,
    operations,
    remotes,
    workspaces,
)
from workspace.api.ttlcache import TtlCache
from workspace.audit.checkpoint_file import CHECKPOINT_FILE
from workspace.config import Settings
from workspace.errors import InvalidInput, NotFound, WorkspaceError
from workspace.metrics import Metrics, MetricsMiddleware
from workspace.workspaces.context import ServiceContext

log = logging.getLogger("workspace.api")


def create_app(ctx: ServiceContext, settings: Settings, access: Access) -> FastAPI:
    if not isinstance(access, Access):
        raise TypeError(f"create_app needs an Access, not {type(access).__name__}")
    app = FastAPI(title="workspace", version=__version__, docs_url=None, redoc_url=None)
    app.state.ctx = ctx
    app.state.settings = settings
    app.state.access = access
    app.add_middleware(BodyLimit, max_body=settings.max_request_body)
    app.state.callers = TtlCache()  # peer -> Caller, see deps.get_caller
    app.state.fd_tickets = FdTickets()  # redeemed on the fd socket (api/fdpass.py)
    app.state.fd_socket = None  # its path, once the daemon serves it
    for module in (workspaces, operations, datasets, files, aliases, locks, audit, accounts,
                   access_routes, maintenance, remotes):
        app.include_router(module.router, prefix="/v1")
    app.state.metrics = Metrics(ctx, checkpoint_file=settings.audit_log_path / CHECKPOINT_FILE,
                                cache_seconds=settings.metrics_cache_seconds)
    app.include_router(metrics.router)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics, label=RouteLabels(app))
    _install_error_handlers(app)
    app.add_middleware(NoticeHeaders)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every error leaves the daemon in one shape; no stack trace reaches a client."""

    @app.exception_handler(WorkspaceError)
    async def on_workspace_error(_: Request, exc: WorkspaceError) -> JSONResponse:
        return JSONResponse(exc.to_payload(), status_code=exc.http_status)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg')}"
            for err in exc.errors()
        ]
        error = InvalidInput("the request is invalid: " + "; ".join(problems),
                             hint="check the command's --help")
        return JSONResponse(error.to_payload(), status_code=error.http_status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        error: WorkspaceError = NotFound("no such API route") if exc.status_code == 404 else (
            InvalidInput(str(exc.detail)))
        return JSONResponse(error.to_payload(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        error = WorkspaceError("the daemon hit an internal error",
                               hint="see the daemon's log; please report it")
        return JSONResponse(error.to_payload(), status_code=500)

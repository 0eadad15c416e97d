"""Errors as pages: the API's one error root, rendered as HTML for a person.

A page that needs a login sends the browser to the login form (and back
afterwards); every other error is a page with the message and the hint, and
the HTTP status the API would have answered. No stack trace is ever shown.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from workspace.errors import AuthenticationRequired, InvalidInput, NotFound, WorkspaceError
from workspace.web.render import page, query_string
from workspace.web.session import clear_session_cookie

log = logging.getLogger("workspace.web")


def install(app: FastAPI) -> None:
    @app.exception_handler(AuthenticationRequired)
    async def on_login_needed(request: Request, exc: AuthenticationRequired) -> Response:
        if request.method != "GET":
            answer: Response = error_page(request, exc)
        else:
            here = request.url.path[len(request.scope.get("root_path", "")):]
            if request.url.query:
                here += "?" + request.url.query
            answer = RedirectResponse(f"{request.scope.get('root_path', '')}/login?"
                                      + query_string({"next": here}), status_code=303)
        clear_session_cookie(answer, request)  # expired or revoked: drop it
        return answer

    @app.exception_handler(WorkspaceError)
    async def on_error(request: Request, exc: WorkspaceError) -> HTMLResponse:
        return error_page(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> HTMLResponse:
        names = sorted({str(err.get("loc", ("?",))[-1]) for err in exc.errors()})
        return error_page(request, InvalidInput(
            f"this page's address is missing or has a bad {', '.join(names)}",
            hint="follow the links of the dashboard rather than editing the address"))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        if exc.status_code == 404:
            return error_page(request, NotFound("there is no such dashboard page",
                                                hint="start again from Datasets"))
        return error_page(request, InvalidInput(str(exc.detail)), status=exc.status_code)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> HTMLResponse:
        log.error("unexpected error on a dashboard page", exc_info=exc)
        return error_page(request, WorkspaceError(
            "the daemon hit an internal error", hint="see the daemon's log; please report it"))


def error_page(request: Request, exc: WorkspaceError, *,
               status: int | None = None) -> HTMLResponse:
    return page(request, "error.html", {"error": exc},
                status=status or exc.http_status)

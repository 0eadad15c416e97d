"""Logging in and out of the dashboard (see session.py for the cookie and CSRF rules)."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from workspace.api.authz import authenticated, public
from workspace.api.deps import AccessDep, ContextDep, SettingsDep, login_client
from workspace.auth import throttle
from workspace.errors import AuthenticationRequired, InvalidInput
from workspace.web import session as sessions
from workspace.web.render import page

router = APIRouter()
FORM_LIMIT = 16 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


@router.get("/login", dependencies=[public()])
def login_form(request: Request, access: AccessDep,
               next: Annotated[str | None, Query(max_length=2048)] = None) -> HTMLResponse:
    return _login_page(request, access, next, error=None, status=200)


@router.post("/login", dependencies=[public()])
async def login(request: Request, ctx: ContextDep, access: AccessDep,
                settings: SettingsDep) -> Response:
    form = await read_form(request)
    sessions.check_csrf(access, request.cookies.get(sessions.CSRF_COOKIE), form.get("csrf"))
    minutes = settings.dashboard_session_minutes
    try:
        issued = await run_in_threadpool(
            sessions.open_session, ctx, access, form.get("name", ""), form.get("password", ""),
            minutes=minutes, client=login_client(request),
            policy=throttle.ThrottlePolicy(base=timedelta(seconds=settings.login_backoff_base)))
    except AuthenticationRequired as exc:
        return _login_page(request, access, form.get("next"), error=exc, status=401)
    answer = RedirectResponse(_root(request) + safe_next(form.get("next")), status_code=303)
    sessions.set_session_cookie(answer, request, issued, minutes)
    return answer


@router.post("/logout", dependencies=[authenticated()])
async def logout(request: Request, ctx: ContextDep, access: AccessDep) -> Response:
    form = await read_form(request)
    web: sessions.WebSession = request.state.web_session
    sessions.check_csrf(access, web.jti, form.get("csrf"))
    await run_in_threadpool(sessions.close_session, ctx, access, request)
    answer = RedirectResponse(_root(request) + "/login", status_code=303)
    sessions.clear_session_cookie(answer, request)
    return answer


def _login_page(request: Request, access: AccessDep, next_page: str | None, *,
                error: AuthenticationRequired | None, status: int) -> HTMLResponse:
    nonce, new = sessions.login_nonce(request)
    answer = page(request, "login.html", {
        "login_csrf": sessions.csrf_token(access, nonce), "next": safe_next(next_page),
        "error": error}, status=status)
    if new:
        sessions.set_nonce_cookie(answer, request, nonce)
    return answer


async def read_form(request: Request) -> dict[str, str]:
    """A small url-encoded form (the dashboard's only kind), each field's first value."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM_TYPE:
        raise InvalidInput("the dashboard accepts only its own forms",
                           hint=f"send {FORM_TYPE}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            raise InvalidInput("the form is too large", hint="this is not a dashboard form")
    try:
        fields = urllib.parse.parse_qs(body.decode("utf-8", errors="replace"),
                                       keep_blank_values=True, max_num_fields=20)
    except ValueError:  # more fields than any dashboard form has
        raise InvalidInput("the form has too many fields",
                           hint="this is not a dashboard form") from None
    return {name: values[0] for name, values in fields.items()}


def safe_next(target: str | None) -> str:
    """Where to go after login: a page of this dashboard only (no open redirect)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(ch) < 32 for ch in target)):
        return "/datasets"
    return target


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))

"""Dashboard sessions: a password login, a session cookie, and CSRF tokens for forms.

The session cookie (``ws_session``) holds an ordinary login JWT
(``auth/tokens.py``): it expires, and logout revokes it by its ``jti``, as
``ws logout`` does. The cookie is ``HttpOnly`` (no script reads it),
``SameSite=Strict`` (no other site's page makes the browser send it),
``Path=/ui``, and ``Secure`` whenever the request came over TLS (``https``,
directly or through a proxy that uvicorn trusts for ``X-Forwarded-Proto``).

Every form carries a CSRF token: an HMAC, under a key derived from the
daemon's secret, of what binds the form to this browser — the session's
``jti`` once logged in, or before that (the login form) a random nonce kept
in the ``ws_csrf`` cookie. Another site can neither read those cookies nor
compute the HMAC, so a forged POST is refused even by a browser that ignores
``SameSite``.

Logins here are the same logins as ``POST /v1/login``: the same accounts,
the same throttle, the same audit events (``detail.via`` says ``dashboard``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from workspace.api.access import Access
from workspace.api.deps import AccessDep, ContextDep
from workspace.auth import Caller, authenticate, throttle, tokens
from workspace.auth.authenticate import authenticate_bearer
from workspace.errors import AuthenticationRequired, PermissionDenied
from workspace.web.nav import NavItem, nav_for
from workspace.workspaces.context import ServiceContext

SESSION_COOKIE = "ws_session"
CSRF_COOKIE = "ws_csrf"
CSRF_FIELD = "csrf"
_CSRF_CONTEXT = b"workspace dashboard csrf v1"


@dataclass(frozen=True, slots=True)
class WebSession:
    """The logged-in browser: who, and the token its forms must carry."""

    caller: Caller
    jti: str
    csrf: str
    nav: list[NavItem]


def csrf_token(access: Access, binding: str) -> str:
    key = hmac.new(access.require_keys().secret, _CSRF_CONTEXT, hashlib.sha256).digest()
    return hmac.new(key, binding.encode(), hashlib.sha256).hexdigest()


def check_csrf(access: Access, binding: str | None, sent: str | None) -> None:
    """Refuse a form whose token was not made for this browser (403, nothing done)."""
    if not binding or not sent or not hmac.compare_digest(csrf_token(access, binding), sent):
        raise PermissionDenied(
            "this form did not come from this dashboard page (its CSRF token is missing or "
            "stale), so nothing was done",
            hint="reload the page and submit the form again")


def login_nonce(request: Request) -> tuple[str, bool]:
    """The browser's pre-login nonce, and whether it is new (then set it as a cookie)."""
    found = request.cookies.get(CSRF_COOKIE)
    if found and 16 <= len(found) <= 64 and found.isalnum():
        return found, False
    return secrets.token_hex(16), True


async def session_caller(request: Request, ctx: ContextDep, access: AccessDep) -> Caller:
    """The dashboard's identity: the session cookie's user (it stands in for ``get_caller``)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise AuthenticationRequired("log in to see the dashboard", hint="use the login form")
    found = await run_in_threadpool(_verify, ctx, access, token)
    request.state.web_session = found
    request.state.chrome = {"user": found.caller.name, "csrf": found.csrf,
                            "nav": found.nav}
    return found.caller


def _verify(ctx: ServiceContext, access: Access, token: str) -> WebSession:
    with ctx.db.read() as session:
        bearer = authenticate_bearer(session, access.require_keys(), token,
                                     now=datetime.now(UTC))
    if bearer.via != "jwt":  # an API token pasted into a cookie is not a session
        raise tokens.invalid_token()
    return WebSession(bearer.caller, bearer.credential_id,
                      csrf_token(access, bearer.credential_id),
                      nav_for(bearer.caller, access))


def open_session(ctx: ServiceContext, access: Access, name: str, password: str, *,
                 minutes: int, client: str,
                 policy: throttle.ThrottlePolicy) -> tokens.IssuedToken:
    """Check the password (throttled per name and ``client``, audited by ``login`` itself,
    as door ``dashboard``) and issue the session's token."""
    caller = authenticate.login(ctx.db, access.require_hasher(), name, password,
                                client=client, now=datetime.now(UTC),
                                refusals=access.refusals, policy=policy, door="dashboard")
    return tokens.issue(access.require_keys(), user_id=caller.user_id,
                        ttl=timedelta(minutes=minutes))


def close_session(ctx: ServiceContext, access: Access, request: Request) -> None:
    """Revoke the session's token: the cookie is worthless from now on, wherever it is."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with ctx.db.write() as session:
            tokens.revoke(session, access.require_keys(), token)


def set_session_cookie(response: Response, request: Request, issued: tokens.IssuedToken,
                       minutes: int) -> None:
    response.set_cookie(SESSION_COOKIE, issued.token, max_age=minutes * 60,
                        **_cookie_flags(request))


def set_nonce_cookie(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(CSRF_COOKIE, nonce, max_age=24 * 3600, **_cookie_flags(request))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, **_cookie_flags(request))


def _cookie_flags(request: Request) -> dict[str, Any]:
    return {"path": request.scope.get("root_path") or "/", "httponly": True,
            "samesite": "strict", "secure": request.url.scheme == "https"}

"""What wraps every dashboard answer: the TCP-only rule and the browser's safety headers.

The Unix socket is the CLI's door: a request on it (it carries peer
credentials) gets 404, as for any unknown path. Every page forbids framing,
scripts, and loading anything from elsewhere (the dashboard has no script at
all), and is never cached; static assets may be.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from workspace.api.peercred import peer_from_state
from workspace.metrics import Asgi, Receive, Scope, Send

HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


class DashboardGuard:
    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if peer_from_state(Request(scope).state) is not None:
            answer = PlainTextResponse("the dashboard is served on the TCP listener only "
                                       "(`ws serve --tcp HOST:PORT`)", status_code=404)
            await answer(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith(f"{scope.get('root_path', '')}/static/")

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, with_headers)

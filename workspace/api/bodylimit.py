"""A cap on request bodies, enforced before anything reads them (pure ASGI middleware).

No route carries bulk data (files move through the file system), yet FastAPI
reads a JSON body whole before validating it, and uvicorn buffers whatever
the app asks for: without a cap, one client can make the daemon hold
gigabytes, unauthenticated on ``POST /v1/login``. So:

- a ``Content-Length`` over the cap is answered ``413 too_large`` at once,
  without calling the app (uvicorn stops reading the socket after 64 KiB
  while nobody asks for the body, so the rest is never buffered);
- a body without a length (chunked) is counted as the app receives it; the
  moment it passes the cap the client gets the 413, and the app is told the
  client went away (``http.disconnect``), so it stops reading and nothing it
  sends afterwards reaches the client.

Either way the response says ``connection: close``: the unread rest of the
body is not a request to parse.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workspace.errors import RequestTooLarge


class BodyLimit:
    """Refuse request bodies over ``max_body`` bytes with ``413 too_large``, unread."""

    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_body:
            await self.refuse(scope, receive, send, length)
            return
        await _Counted(self, scope, receive, send).run()

    async def refuse(self, scope: Scope, receive: Receive, send: Send, size: int | None) -> None:
        said = f" ({size} bytes)" if size is not None else ""
        error = RequestTooLarge(
            f"the request body{said} is larger than this daemon accepts ({self.max_body} bytes)",
            hint="no workspace request needs a body that large: send a smaller one "
            "(an admin may raise max_request_body)",
            details={"limit": self.max_body})
        response = JSONResponse(error.to_payload(), status_code=error.http_status,
                                headers={"connection": "close"})
        await response(scope, receive, send)


class _Counted:
    """One request whose body is counted as the app receives it."""

    def __init__(self, limit: BodyLimit, scope: Scope, receive: Receive, send: Send) -> None:
        self.limit, self.scope, self._receive, self._send = limit, scope, receive, send
        self.received = 0
        self.refused = False
        self.started = False  # the app began its response: too late for a 413

    async def run(self) -> None:
        await self.limit.app(self.scope, self.receive, self.send)

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_body:
                self.refused = True
                if not self.started:
                    await self.limit.refuse(self.scope, self._receive, self._send, None)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if not self.refused:  # after the 413, whatever the app says goes nowhere
            self.started = True
            await self._send(message)


def _content_length(scope: Scope) -> int | None:
    """The declared length; an unreadable one is left to the server (uvicorn refuses it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return _as_int(value)
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

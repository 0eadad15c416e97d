"""Handing a user's pending notices over with their next request (auth/notices.py).

When the caller is resolved, their pending notices are taken and kept in the
request's state; ``NoticeHeaders`` then adds each as one ``X-Workspace-Notice``
header (a JSON string, so any text fits a header) to whatever the response
is, streams included. The CLI and the Python API print them.
"""

from __future__ import annotations

import json

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workspace.auth import Caller, notices
from workspace.workspaces.context import ServiceContext

HEADER = b"x-workspace-notice"
_STATE_KEY = "notices"


async def attach(request: Request, ctx: ServiceContext, caller: Caller) -> None:
    """Take ``caller``'s pending notices for this request's response."""
    taken = await run_in_threadpool(notices.take, ctx.db, caller.user_id)
    if taken:
        setattr(request.state, _STATE_KEY, taken)


class NoticeHeaders:
    """ASGI middleware: the notices a request took go out as response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_notices(message: Message) -> None:
            if message["type"] == "http.response.start":
                taken: list[str] = scope.get("state", {}).get(_STATE_KEY) or []
                extra = [(HEADER, json.dumps(text).encode("ascii")) for text in taken]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_notices)


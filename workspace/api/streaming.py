"""Long operations as NDJSON streams of progress, ending in a result or an error line.

The operation runs in a worker thread. An error raised before the operation
reports ``start`` becomes an ordinary error response; after that the stream
carries it as its last line. If the client goes away, the operation still
runs to its end, so it is never left half-done by a closed terminal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from workspace.api.schemas import dumps
from workspace.errors import WorkspaceError
from workspace.workspaces.context import Reporter

log = logging.getLogger("workspace.api")
_MIN_INTERVAL = 0.1
_DONE = object()


async def run_streaming(operation: Callable[[Reporter], Any]) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Any] = asyncio.Queue()

    def emit(event: Any) -> None:
        loop.call_soon_threadsafe(events.put_nowait, event)

    def work() -> Any:
        try:
            return operation(_reporter(emit))
        finally:
            emit(_DONE)

    future = loop.run_in_executor(None, work)
    first = await events.get()
    if first is _DONE:
        result = await future  # raises an early error as an ordinary response
        return _response(_lines([], result_line(result)))
    return _response(_follow(first, events, future))


def result_line(result: Any) -> dict[str, Any]:
    return {"event": "result", "result": result}


def _reporter(emit: Callable[[Any], None]) -> Reporter:
    last = [0.0]

    def start(files: int, size: int) -> None:
        emit({"event": "start", "files": files, "bytes": size})

    def update(files: int, size: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _MIN_INTERVAL:
            last[0] = now
            emit({"event": "progress", "files": files, "bytes": size})

    return Reporter(start, update)


async def _follow(first: Any, events: asyncio.Queue[Any],
                  future: asyncio.Future[Any]) -> AsyncIterator[bytes]:
    yield _encode_line(first)
    while (event := await events.get()) is not _DONE:
        yield _encode_line(event)
    try:
        yield _encode_line(result_line(await future))
    except WorkspaceError as exc:
        yield _encode_line({"event": "error", **exc.to_payload()})
    except Exception:
        log.exception("operation failed")
        yield _encode_line({"event": "error", **WorkspaceError(
            "the daemon hit an internal error", hint="see the daemon's log").to_payload()})


async def _lines(events: list[Any], last: dict[str, Any]) -> AsyncIterator[bytes]:
    for event in [*events, last]:
        yield _encode_line(event)


def _encode_line(event: Any) -> bytes:
    return dumps(event).encode() + b"\n"


def _response(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="application/x-ndjson")

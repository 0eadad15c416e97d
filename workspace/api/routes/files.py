"""The Python API's reads: one file's bytes, as a passed fd (local) or a stream (anywhere).

``POST /v1/files/open`` on the Unix socket authorizes, audits and answers
with a ticket for the fd socket (api/fdpass.py); elsewhere (TCP), or asked
not to (``"fd": false``), it answers ``"fd": null`` and records nothing, and
the client streams instead:
``GET /v1/files/content`` sends the object's bytes (or one ``Range`` of them)
in bounded chunks, each request audited.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from workspace.api.authz import require
from workspace.api.deps import CallerDep, ContextDep
from workspace.api.peercred import peer_from_state
from workspace.api.resources import ref_in_body, refs_in_query
from workspace.api.schemas import OpenBody, encode
from workspace.datasets import files
from workspace.errors import InvalidInput
from workspace.refs import parse_ref

router = APIRouter()
CHUNK = 4 << 20
"""Bytes per streamed chunk: large enough that per-chunk overhead stays small, small
enough that a reader of a 1 TB file holds 4 MiB."""
_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


@router.post("/files/open", dependencies=[require(ref_in_body("read"))])
def open_file(body: OpenBody, request: Request, caller: CallerDep, ctx: ContextDep) -> Any:
    peer, socket_path = peer_from_state(request.state), request.app.state.fd_socket
    ref = parse_ref(body.ref)
    if peer is None or socket_path is None or not body.fd:
        with ctx.db.read() as session:
            found = files.locate(session, ref, body.path)
        return encode({"file": found, "fd": None})
    with ctx.db.write() as session:
        found = files.read(session, caller, ref, body.path, how="fd")
    with ctx.store.pins.lease() as lease:  # an evicted object comes back from the remote
        ctx.ensure_present(caller, {found.oid: found.size}, lease)
    ticket = request.app.state.fd_tickets.issue(peer.uid, found.oid, found.size)
    return encode({"file": found, "fd": {"socket": socket_path, "ticket": ticket}})


@router.get("/files/content", dependencies=[require(refs_in_query("read", "ref"))])
def content(request: Request, caller: CallerDep, ctx: ContextDep,
            ref: Annotated[str, Query(max_length=400)],
            path: Annotated[str, Query(max_length=4096)]) -> StreamingResponse:
    """The file's bytes; ``Range: bytes=START-[END]`` (one range) answers 206 with those."""
    parsed = parse_ref(ref)
    with ctx.db.read() as session:
        size = files.locate(session, parsed, path).size
    wanted = _range(request.headers.get("range"), size)
    with ctx.db.write() as session:
        found = files.read(session, caller, parsed, path, how="stream", byte_range=wanted)
    start, end = wanted if wanted is not None else (0, found.size - 1)
    with ctx.store.pins.lease() as lease:  # an evicted object comes back from the remote
        ctx.ensure_present(caller, {found.oid: found.size}, lease)
        fd = ctx.store.open_object(found.oid)
    headers = {"content-length": str(end - start + 1), "accept-ranges": "bytes",
               "x-workspace-version": str(found.version), "x-workspace-oid": found.oid,
               "x-workspace-size": str(found.size)}
    if wanted is not None:
        headers["content-range"] = f"bytes {start}-{end}/{found.size}"
    return StreamingResponse(_chunks(fd, start, end + 1), status_code=206 if wanted else 200,
                             headers=headers, media_type="application/octet-stream")


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, or None for the whole file."""
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        raise InvalidInput(f"unsupported Range {header!r}", hint="send bytes=START- or START-END")
    start = int(match.group(1))
    end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    if start >= size or end < start:
        raise InvalidInput(f"range {header} is outside the file ({size} bytes)")
    return (start, end) if (start, end) != (0, size - 1) else None


def _chunks(fd: int, start: int, stop: int) -> Iterator[bytes]:
    """The bytes [start, stop) of ``fd`` in ``CHUNK``s; the fd closes when the stream ends."""
    try:
        offset = start
        while offset < stop:
            data = os.pread(fd, min(CHUNK, stop - offset), offset)
            if not data:
                return  # the object shrank under us: the client sees a short body
            offset += len(data)
            yield data
    finally:
        os.close(fd)

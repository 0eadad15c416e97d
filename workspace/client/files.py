"""The Python API: dataset files straight into code, with your identity.

    import workspace
    with workspace.open("vision/cats@v1.0", "labels.csv", mode="r") as f:
        header = f.readline()
    weights = workspace.read_bytes("models/resnet@production", "model.pt")
    for entry in workspace.ls("vision/cats@2", prefix="train/"): ...
    workspace.get("vision/cats@production", "data/cats")   # like `ws get`

Every read goes through the daemon as you (the Unix socket's peer, or your
token with a remote ``server``), so the policy decides and the audit log
records it (``dataset:file:read``). On the local socket the daemon passes the
open object's file descriptor after its checks (api/fdpass.py): reading is
then plain reads of a read-only file, at page-cache speed, zero-copy. Remote
(or with ``transport="stream"``), the bytes come as a stream in bounded
pieces, and seeks ask for the rest from the new position.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from workspace.client import fdpass
from workspace.client.connect import connect
from workspace.client.daemon import DaemonClient, Json, require
from workspace.errors import InvalidInput, WorkspaceError
from workspace.refs import parse_ref

Transport = Literal["auto", "fd", "stream"]
BUFFER = 1 << 20
"""Bytes buffered by a streamed file object (the daemon sends 4 MiB chunks)."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a dataset version, as ``ls`` lists it."""

    path: str
    size: int
    oid: str
    executable: bool


def open(ref: str, path: str, mode: str = "rb", *, encoding: str | None = None,
         errors: str | None = None, newline: str | None = None,
         transport: Transport = "auto", socket: str | Path | None = None,
         server: str | None = None) -> IO[Any]:
    """Open ``path`` of the version ``ref`` names (``DATASET``, ``@N``, ``@TAG``, ``@ALIAS``)
    for reading: ``mode`` ``"rb"`` gives a binary file, ``"r"`` a text file
    (``encoding`` default UTF-8). ``transport``: ``"fd"`` insists on a passed file
    descriptor, ``"stream"`` never uses one, ``"auto"`` takes one when offered."""
    if mode not in ("rb", "r", "rt"):
        raise InvalidInput(f"mode {mode!r}: workspace files are read-only",
                           hint="open with 'rb' (bytes) or 'r' (text)")
    binary = _open_binary(str(parse_ref(ref)), path, transport, socket, server)
    if mode == "rb":
        return binary
    return io.TextIOWrapper(binary, encoding=encoding or "utf-8", errors=errors, newline=newline)


def read_bytes(ref: str, path: str, **options: Any) -> bytes:
    """The whole file's bytes (``open`` takes the same keyword options)."""
    with open(ref, path, "rb", **options) as handle:
        data: bytes = handle.read()
        return data


def read_text(ref: str, path: str, encoding: str = "utf-8", **options: Any) -> str:
    """The whole file as text."""
    with open(ref, path, "r", encoding=encoding, **options) as handle:
        text: str = handle.read()
        return text


def ls(ref: str, prefix: str | None = None, *, socket: str | Path | None = None,
       server: str | None = None) -> list[FileEntry]:
    """The files of a version, by path (``prefix`` keeps those starting with it)."""
    with connect(socket=_path(socket), server=server) as client:
        answer = client.get("/v1/ls", {"ref": str(parse_ref(ref)), "prefix": prefix})
    return [FileEntry(str(f["path"]), int(f["size"]), str(f["oid"]), bool(f["executable"]))
            for f in require(answer, "files")]


def get(ref: str, path: str | Path, *, force: bool = False, socket: str | Path | None = None,
        server: str | None = None) -> Json:
    """``ws get``: bring the version into your workspace at ``path`` (hardlinks, in
    milliseconds), track it there and write ``PATH.ws``; returns the operation's result."""
    from workspace.client.paths import daemon_path
    from workspace.client.pointers import record

    body = {"ref": str(parse_ref(ref)), "path": daemon_path(str(path)), "force": force}
    with connect(socket=_path(socket), server=server) as client:
        result = client.stream("/v1/get", body, lambda event: None)
    record(result)
    return result


def _open_binary(ref: str, path: str, transport: Transport, socket: str | Path | None,
                 server: str | None) -> IO[bytes]:
    client = connect(socket=_path(socket), server=server)
    try:
        answer = client.post("/v1/files/open", {"ref": ref, "path": path,
                                                "fd": transport != "stream"})
        found, offer = require(answer, "file"), answer.get("fd")
        if offer is not None:
            return _passed(client, offer)
        if transport == "fd":
            raise WorkspaceError("the daemon offered no file descriptor (a remote daemon, or "
                                 "one without fd passing)", hint="use transport='auto'")
    except BaseException:
        client.close()
        raise
    from workspace.client.reader import StreamReader

    pinned = f"{found['dataset']}@{found['version']}"
    raw = StreamReader(client, pinned, str(found["path"]), int(found["size"]))
    return io.BufferedReader(raw, buffer_size=BUFFER)


def _passed(client: DaemonClient, offer: Json) -> IO[bytes]:
    assert client.socket is not None  # offers come only over the Unix socket
    daemon_uid = os.stat(client.socket).st_uid
    fd = fdpass.receive(str(offer["socket"]), str(offer["ticket"]), daemon_uid=daemon_uid)
    client.close()
    return os.fdopen(fd, "rb")


def _path(socket: str | Path | None) -> Path | None:
    return Path(socket) if socket is not None else None


__all__ = ["FileEntry", "get", "ls", "open", "read_bytes", "read_text"]

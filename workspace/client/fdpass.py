"""Picking up an object's file descriptor from the daemon's fd socket (api/fdpass.py).

The ticket comes from ``POST /v1/files/open``, which did the authorization
and the audit; here it is exchanged for the fd itself (``SCM_RIGHTS``). The
socket must belong to the daemon: its peer uid has to be the uid that owns
the daemon's HTTP socket, or the fd is refused (someone else's socket could
hand over any file it likes).
"""

from __future__ import annotations

import json
import os
import socket
import struct

from workspace.errors import PermissionDenied, WorkspaceError

_PEERCRED = struct.Struct("3i")
_TIMEOUT = 30.0
_MAX_LINE = 65536


def receive(fd_socket: str, ticket: str, *, daemon_uid: int) -> int:
    """The fd the ticket stands for, read-only; the caller owns (and closes) it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_TIMEOUT)
        sock.connect(fd_socket)
        _, uid, _ = _PEERCRED.unpack(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size))
        if uid != daemon_uid:
            raise PermissionDenied(
                f"{fd_socket} is served by uid {uid}, not by the daemon (uid {daemon_uid})",
                hint="someone else's process listens there: tell the server's admin")
        sock.sendall(ticket.encode("ascii") + b"\n")
        line, fds = _answer(sock)
    try:
        answer = json.loads(line)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("ok") is True and len(fds) == 1:
        return fds[0]
    for fd in fds:
        os.close(fd)
    if isinstance(answer, dict) and "error" in answer:
        raise WorkspaceError.from_payload(answer)
    raise WorkspaceError("the daemon's fd socket sent no file descriptor",
                         hint="read with transport='stream' and report it")


def _answer(sock: socket.socket) -> tuple[bytes, list[int]]:
    data, fds = b"", []
    while b"\n" not in data and len(data) < _MAX_LINE:
        chunk, got, _, _ = socket.recv_fds(sock, 4096, 1)
        fds.extend(got)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0], fds

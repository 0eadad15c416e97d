"""Handing a local reader the object's file descriptor (``SCM_RIGHTS``): zero-copy reads.

Why a second socket: the HTTP door (uvicorn) owns its connections' bytes, and
ancillary data slipped into that stream would have to line up with HTTP
framing that neither uvicorn nor an HTTP client lets us control (a client
reading with plain ``recv`` drops it silently). So the HTTP route
``POST /v1/files/open`` does everything that matters: it authenticates,
authorizes, resolves and audits, then hands out a *ticket*; this small socket
only redeems tickets.

One exchange per connection: the client sends ``TICKET\\n``; the daemon
answers one JSON line, ``{"ok": true, "size": N}`` with the fd attached, or
``{"error": {...}}`` (the usual error shape) without one.

Safety: a ticket is 192 random bits, used once, valid for ``TICKET_TTL``
seconds, and bound to the uid that asked for it: the redeeming peer's
``SO_PEERCRED`` uid must match, so a ticket someone else sees is worthless.
The fd is opened ``O_RDONLY|O_NOFOLLOW`` on the object (0444, the daemon's)
and must be a regular file of the expected size: the reader can read it, but
not write, chmod or hardlink it (``fs.protected_hardlinks``), and it is gone
when they close it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from workspace.api.peercred import peer_of
from workspace.errors import NotFound, PermissionDenied, WorkspaceError
from workspace.store import ObjectStore

log = logging.getLogger("workspace.api")
TICKET_TTL = 30.0
MAX_TICKETS = 10_000
MAX_CONNECTIONS = 32
_LINE_LIMIT = 128
_READ_TIMEOUT = 5.0


def fd_socket_path(socket_path: Path) -> Path:
    """``ws.sock`` -> ``ws.fd.sock``, beside the HTTP socket (same directory, same access)."""
    return socket_path.with_name(f"{socket_path.stem}.fd{socket_path.suffix or '.sock'}")


@dataclass(frozen=True, slots=True)
class Grant:
    uid: int
    oid: str
    size: int
    expires: float


class FdTickets:
    """Tickets issued by the route and redeemed on the fd socket; thread-safe."""

    def __init__(self, ttl: float = TICKET_TTL, limit: int = MAX_TICKETS) -> None:
        self._ttl, self._limit = ttl, limit
        self._grants: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, uid: int, oid: str, size: int) -> str:
        ticket = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            if len(self._grants) >= self._limit:
                self._grants = {t: g for t, g in self._grants.items() if g.expires > now}
            if len(self._grants) >= self._limit:
                raise WorkspaceError("too many file descriptors are waiting to be picked up",
                                     hint="try again in a few seconds")
            self._grants[ticket] = Grant(uid, oid, size, now + self._ttl)
        return ticket

    def redeem(self, ticket: str, uid: int) -> Grant:
        with self._lock:
            grant = self._grants.pop(ticket, None)
        if grant is None or grant.expires < time.monotonic():
            raise NotFound("no such ticket, or it expired",
                           hint="open the file again (tickets last seconds, and work once)")
        if grant.uid != uid:
            raise PermissionDenied("this ticket was issued to another user")
        return grant


class FdServer:
    """Serves ticket redemptions on a bound, listening Unix socket, in daemon threads."""

    def __init__(self, listener: socket.socket, tickets: FdTickets, store: ObjectStore) -> None:
        self._listener, self._tickets, self._store = listener, tickets, store
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._thread = threading.Thread(target=self._serve, name="fd-passing", daemon=True)

    def start(self) -> FdServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting: shutting the listener down wakes the blocked ``accept``."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # closed
            if not self._slots.acquire(blocking=False):
                conn.close()  # busy: the client falls back to streaming
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(_READ_TIMEOUT)
                self._answer(conn)
        except OSError as exc:
            log.debug("fd passing: connection failed: %s", exc)
        finally:
            self._slots.release()

    def _answer(self, conn: socket.socket) -> None:
        peer = peer_of(conn)
        try:
            if peer is None:
                raise PermissionDenied("no peer credentials on the fd socket")
            grant = self._tickets.redeem(_read_line(conn), peer.uid)
            fd = self._open(grant)
        except WorkspaceError as exc:
            conn.sendall(_line(exc.to_payload()))
            return
        try:
            socket.send_fds(conn, [_line({"ok": True, "size": grant.size})], [fd])
        finally:
            os.close(fd)

    def _open(self, grant: Grant) -> int:
        fd = self._store.open_object(grant.oid)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != grant.size:
            os.close(fd)
            raise WorkspaceError(f"object {grant.oid} is not what the database says",
                                 hint="ask an admin to check the store (fsck)")
        return fd


def _read_line(conn: socket.socket) -> str:
    data = b""
    while b"\n" not in data and len(data) <= _LINE_LIMIT:
        chunk = conn.recv(_LINE_LIMIT)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].decode("ascii", "replace").strip()


def _line(payload: object) -> bytes:
    return json.dumps(payload).encode() + b"\n"

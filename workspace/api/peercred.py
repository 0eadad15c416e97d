"""Peer credentials for requests on the Unix socket, and the connection's own limits.

uvicorn puts no peer information in the ASGI scope for a Unix socket, so this
subclass of its httptools protocol (the C parser: ~20% more requests per
second than h11 here) reads ``SO_PEERCRED`` (pid, uid, gid) and
``SO_PEERGROUPS`` (the supplementary groups) once per connection, at accept,
and hands them on through the request state (``request.state.peer``). The
kernel fills both at ``connect()``, from the connecting process's
credentials; the client cannot forge them, and nothing is read later from
``/proc/PID``, whose PID may by then belong to another process.

The protocol also bounds how long a client may take (``ConnectionLimits``):
a request's headers must arrive in full within ``header_timeout`` of its
first byte (or of the connection, for the first request), and its body within
``body_timeout`` of the headers. Both are deadlines, not idle timers, so
trickling a byte now and then does not extend them. uvicorn itself has only
the keep-alive timeout, armed after a response, so a client that connects and
trickles (or sends nothing) would otherwise hold its connection forever.

It relies on uvicorn internals (``HttpToolsProtocol``, its ``app_state``,
``cycle``, ``flow`` and parser callbacks): ``tests/api/test_contracts.py``
fails with a clear message if they move.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import logging
import os
import socket
import struct
from array import array
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("workspace.api")
_PEERCRED = struct.Struct("3i")
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)
"""Linux >= 4.13; Python 3.11's ``socket`` has no constant for it."""
_PY_MAX_BUFLEN = 1024
"""``socket.getsockopt`` refuses larger buffers: 256 groups; more need ``libc`` itself."""


@dataclass(frozen=True, slots=True)
class Peer:
    """Everything that identifies a socket peer's credentials (the caller cache's key)."""

    pid: int
    uid: int
    gid: int
    groups: tuple[int, ...] = ()  # supplementary gids, as the kernel recorded them at connect


def peer_of(sock: socket.socket | None) -> Peer | None:
    if sock is None or sock.family != socket.AF_UNIX:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
    pid, uid, gid = _PEERCRED.unpack(raw)
    return Peer(pid, uid, gid, peer_gids(sock))


def peer_gids(sock: socket.socket) -> tuple[int, ...]:
    """The peer's supplementary groups (``SO_PEERGROUPS``), as native unsigned ints.

    Up to 256 groups fit the largest buffer Python's ``getsockopt`` accepts;
    for more, the kernel answers ERANGE and ``_libc_peer_gids`` asks again.
    """
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, _PY_MAX_BUFLEN)
    except OSError as exc:
        if exc.errno != errno.ERANGE:
            raise
        return _libc_peer_gids(sock.fileno())
    return tuple(array("I", raw))


def _libc_peer_gids(fd: int) -> tuple[int, ...]:
    """``getsockopt(2)`` itself: on ERANGE the kernel writes the size it needs."""
    libc = ctypes.CDLL(None, use_errno=True)
    size = ctypes.c_uint32(_PY_MAX_BUFLEN)
    while True:
        buffer = (ctypes.c_uint * (size.value // 4))()
        size = ctypes.c_uint32(ctypes.sizeof(buffer))
        if libc.getsockopt(fd, socket.SOL_SOCKET, SO_PEERGROUPS, buffer,
                           ctypes.byref(size)) == 0:
            return tuple(buffer[: size.value // 4])
        code = ctypes.get_errno()
        if code != errno.ERANGE:
            raise OSError(code, os.strerror(code))


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Seconds a client may take to send a request's headers, and then its body."""

    header_timeout: float
    body_timeout: float


class PeerCredProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol (its fast C parser), plus the peer's credentials in
    every request's state, and header and body timeouts.

    ``limits`` is set on the class by ``protocol_class`` (uvicorn builds one
    protocol per connection with its own arguments).
    """

    limits: ConnectionLimits = ConnectionLimits(header_timeout=10.0, body_timeout=10.0)
    _timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        try:
            peer = peer_of(transport.get_extra_info("socket"))
        except OSError as exc:  # no identity, no service: never guess the groups
            log.error("cannot read the peer's credentials (needs Linux >= 4.13): %s", exc)
            transport.close()
            return
        self.app_state = {**self.app_state, "peer": peer}
        self._arm(self.limits.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._timer is None and self._between_requests():
            self._arm(self.limits.header_timeout)  # the first bytes of the next request
        super().data_received(data)

    def on_message_begin(self) -> None:
        if self._timer is None:
            self._arm(self.limits.header_timeout)  # a request pipelined behind another
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._arm(self.limits.body_timeout)  # disarmed when the message is complete
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _between_requests(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is None or bool(cycle.response_complete)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expired, seconds)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, seconds: float) -> None:
        """Too slow: close, unless the client is not the one keeping us waiting."""
        self._timer = None
        if self._daemon_busy():
            self._arm(seconds)
        elif not self.transport.is_closing():
            self.transport.close()

    def _daemon_busy(self) -> bool:
        """uvicorn stopped reading (the app has not asked for the body yet, or a pipelined
        request waits), or a whole request is in and its response is still being made."""
        if self.flow is not None and self.flow.read_paused:
            return True
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.more_body and not cycle.response_complete


def protocol_class(limits: ConnectionLimits) -> type[PeerCredProtocol]:
    """A ``PeerCredProtocol`` bound to this daemon's limits, for ``uvicorn.Config(http=...)``."""
    return type("BoundPeerCredProtocol", (PeerCredProtocol,), {"limits": limits})


def peer_from_state(state: Any) -> Peer | None:
    peer = getattr(state, "peer", None)
    return peer if isinstance(peer, Peer) else None

"""The TCP listener's connections send small writes at once (TCP_NODELAY).

asyncio turns Nagle's algorithm off on accepted sockets only when their
protocol is IPPROTO_TCP, and an accepted socket inherits the listener's: a
listener made with ``socket(AF_INET, SOCK_STREAM)`` (protocol 0) left it on,
so every answer longer than one segment waited for the client's delayed ACK
(about 40 ms per dashboard page and per large API answer over TCP).
"""

from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

from tests.support.site import free_port
from workspace.daemon import _bind_tcp
from workspace.errors import InvalidInput


def _listener() -> tuple[int, socket.socket]:
    """The daemon's own listener on a free port (another process may take the port
    between the probe and the bind: try again)."""
    for _ in range(5):
        port = free_port()
        try:
            return port, _bind_tcp(f"127.0.0.1:{port}")
        except InvalidInput:
            continue
    raise AssertionError("no free port on 127.0.0.1 after 5 tries")


def test_accepted_connections_have_nagle_turned_off() -> None:
    async def accept_one() -> int:
        port, listener = _listener()
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            nodelay = await asyncio.wait_for(seen, 60)
            writer.close()
            return nodelay
        finally:
            server.close()

    # a thread of its own: while a test of this worker has a browser open (Playwright's sync
    # API), an event loop runs in this thread, and asyncio.run() refuses to start another
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(asyncio.run, accept_one()).result(timeout=120) != 0

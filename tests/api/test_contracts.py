"""What ``api/peercred.py`` relies on inside uvicorn (pinned in pyproject.toml).

``PeerCredProtocol`` subclasses uvicorn's ``HttpToolsProtocol``, which is not
a public API: it overrides the parser callbacks, hands the peer on through
``app_state`` (uvicorn copies it into each request's ``scope["state"]``), and
reads ``cycle.response_complete``, ``cycle.more_body`` and
``flow.read_paused``. If a uvicorn upgrade moves any of that, these tests
fail and say what to look at, instead of the daemon silently losing its
peer identity or its timeouts.

The behavioural tests run a real uvicorn server in a thread, on a Unix
socket, with a tiny ASGI app that echoes what it was given.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from uvicorn.protocols.http import httptools_impl
from uvicorn.protocols.http.flow_control import FlowControl

from workspace.api.peercred import ConnectionLimits, Peer, protocol_class

MOVED = "uvicorn {version} moved {what}: api/peercred.py relies on it; adapt it and the pin"
HOOKS = ("connection_made", "connection_lost", "data_received", "on_message_begin",
         "on_headers_complete", "on_message_complete")
DEADLINE = 0.5


def _moved(what: str) -> str:
    return MOVED.format(version=uvicorn.__version__, what=what)


def test_the_protocol_and_the_hooks_we_override_exist() -> None:
    base = getattr(httptools_impl, "HttpToolsProtocol", None)
    assert isinstance(base, type), _moved("HttpToolsProtocol")
    for hook in HOOKS:
        assert callable(getattr(base, hook, None)), _moved(f"HttpToolsProtocol.{hook}")


def test_the_state_we_read_exists() -> None:
    cycle_init = httptools_impl.RequestResponseCycle.__init__.__code__.co_names
    for attribute in ("response_complete", "more_body"):
        assert attribute in cycle_init, _moved(f"RequestResponseCycle.{attribute}")
    assert hasattr(FlowControl(_NoTransport()), "read_paused"), _moved("FlowControl.read_paused")


class _NoTransport:
    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, list[Any]]]:
    seen: list[Any] = []

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope.get("state", {}).get("peer"))
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    path = tmp_path / "echo.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    limits = ConnectionLimits(header_timeout=DEADLINE, body_timeout=DEADLINE)
    server = uvicorn.Server(uvicorn.Config(echo, http=protocol_class(limits), lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start"
        yield path, seen
    finally:
        server.should_exit = True
        thread.join(30)
        listener.close()


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(str(path))
    return sock


def test_the_peer_reaches_every_request_through_app_state(
        served: tuple[Path, list[Any]]) -> None:
    path, seen = served
    with _connect(path) as sock:
        for _ in range(2):  # a second request on the same connection too
            sock.sendall(b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\nhi")
            answer = b""
            while not answer.endswith(b"\r\n\r\nhi"):
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
    expected = Peer(os.getpid(), os.getuid(), os.getgid(), ())
    assert len(seen) == 2, _moved("how app_state reaches scope['state']")
    for peer in seen:
        assert isinstance(peer, Peer), _moved("how app_state reaches scope['state']")
        assert (peer.pid, peer.uid, peer.gid) == (expected.pid, expected.uid, expected.gid)
        assert set(peer.groups) == set(os.getgroups())


@pytest.mark.parametrize("sent", [b"", b"GET / HTTP/1.1\r\nhost: x\r\n",
                                  b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nab"],
                         ids=["nothing", "half the headers", "part of the body"])
def test_a_client_that_stops_sending_is_closed_at_the_deadline(
        served: tuple[Path, list[Any]], sent: bytes) -> None:
    path, _ = served
    with _connect(path) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        assert sock.recv(65536) == b"", _moved("the parser callbacks that arm the deadlines")
        assert time.monotonic() - started >= DEADLINE * 0.8

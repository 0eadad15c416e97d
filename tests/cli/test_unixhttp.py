"""The standard-library transport (client/unixhttp.py) against a scripted server on a real
Unix socket: framings, repeated headers, a kept-alive connection the daemon closed, and the
errors a user sees through DaemonClient."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from workspace.client.daemon import DaemonClient
from workspace.client.unixhttp import UnixHttp, WireError, query
from workspace.errors import DaemonUnreachable, WorkspaceError


class Scripted:
    """Answers each accepted connection's requests with the next canned bytes; a connection
    serves ``per_connection`` requests, then is closed (as an idle keep-alive would be)."""

    def __init__(self, path: Path, answers: list[bytes], per_connection: int = 1) -> None:
        self.requests: list[bytes] = []
        self._answers, self._per = list(answers), per_connection
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(path))
        self._listener.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self._answers:
            conn, _ = self._listener.accept()
            with conn:
                for _ in range(self._per):
                    data = conn.recv(65536)
                    if not data or not self._answers:
                        break
                    self.requests.append(data)
                    conn.sendall(self._answers.pop(0))


@pytest.fixture
def sock_path() -> Iterator[Path]:
    directory = tempfile.mkdtemp(prefix="wsu", dir="/tmp")
    yield Path(directory) / "s.sock"
    shutil.rmtree(directory, ignore_errors=True)


def _client(path: Path) -> UnixHttp:
    return UnixHttp(str(path), connect_timeout=5, timeout=5)


def test_content_length_chunks_and_repeated_headers(sock_path: Path) -> None:
    Scripted(sock_path, [
        b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\nX-Note: "a"\r\nx-note: "b"\r\n\r\n{"a": 1}',
        b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\n{\"e\r\n5;x=y\r\n\": 2}\r\n0\r\n\r\n",
    ], per_connection=2)
    client = _client(sock_path)
    first = client.request("GET", "/v1/x", params={"path": "/a b", "force": True},
                           notice_header="X-Note")
    assert (first.status, first.body, first.notices) == (200, b'{"a": 1}', ['"a"', '"b"'])
    second = client.request("POST", "/v1/y", body={"k": "é"})
    assert (second.status, second.ok, second.body) == (404, False, b'{"e": 2}')
    client.close()


def test_a_kept_alive_connection_the_daemon_closed_is_reopened(sock_path: Path) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    server = Scripted(sock_path, [ok, ok], per_connection=1)
    client = _client(sock_path)
    assert client.request("GET", "/one").status == 200
    assert client.request("POST", "/two", body={}).status == 200  # on a new connection
    assert [r.split(b" ")[1] for r in server.requests] == [b"/one", b"/two"]


def test_a_body_cut_short_is_an_error_not_a_short_answer(sock_path: Path) -> None:
    Scripted(sock_path, [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\""])
    with pytest.raises(WireError) as caught:
        _client(sock_path).request("GET", "/x")
    assert caught.value.kind == "transport"


def test_no_daemon_is_daemon_unreachable(sock_path: Path) -> None:
    with DaemonClient(sock_path) as client, pytest.raises(DaemonUnreachable) as caught:
        client.get("/v1/health")
    assert str(sock_path) in caught.value.message


def test_garbage_from_the_socket_is_one_clean_error(sock_path: Path) -> None:
    Scripted(sock_path, [b"SSH-2.0-OpenSSH\r\n\r\n"])
    with DaemonClient(sock_path) as client, pytest.raises(WorkspaceError) as caught:
        client.get("/v1/health")
    assert "lost the connection" in caught.value.message


def test_query_matches_what_httpx_sent() -> None:
    assert query({"a": True, "b": False, "c": 3, "d": ["x", "y z"], "e": None}) == \
        "a=true&b=false&c=3&d=x&d=y+z&e="

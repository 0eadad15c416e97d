"""HTTP/1.1 over the daemon's Unix socket in a few dozen lines: the hot path's transport.

``DaemonClient`` (``daemon.py``) sends its plain JSON requests (``get``,
``post``, ``delete``) and its streamed operations (NDJSON progress lines) on
the local socket through this module, and keeps httpx for downloads and TCP.
Why two: a no-op `ws status` must start in tens of milliseconds, and
importing httpx (httpcore, h11, anyio, idna, an SSL context) costs more
than the rest of it together; even the standard
library's ``http.client`` pulls in ``email`` (for header parsing), ``ssl``,
``calendar`` and ``datetime``, about as much again as everything else a
status needs (``bench/bench_cli_startup.py`` prints the figures). A request
with a JSON body and an answer framed by ``Content-Length`` or chunks, on a
local socket to our own daemon, needs none of that: no TLS, no proxies, no
redirects, no compression. A checkout of 10,000 small files takes half a
second, so httpx's start-up is not noise there either; downloads (ranges,
raw bytes) stay on httpx.

Failures are raised as ``WireError`` with a kind (``connect``, ``timeout``,
``transport``) and the cause chained, so ``daemon.py`` maps both
transports' errors the same way.
"""

from __future__ import annotations

import json
import socket as socketlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, NamedTuple
from urllib.parse import urlencode

HOST = "ws"
MAX_LINE = 65_536
"""Longest status or header line accepted (the daemon's are short)."""
MAX_HEADERS = 100


class WireError(Exception):
    """The request did not get an answer; ``kind`` says at which step."""

    def __init__(self, kind: str, cause: BaseException) -> None:
        super().__init__(f"{cause.__class__.__name__}: {cause}")
        self.kind = kind
        self.__cause__ = cause


class _Stale(WireError):
    """The connection ended before an answer began (a kept-alive one may be retried)."""


class ProtocolError(Exception):
    """The bytes that came back are not an HTTP/1.1 answer we can read."""


class Streamed(NamedTuple):
    """A streamed answer: ``lines`` as they come when it succeeded, else the whole ``body``."""

    status: int
    notices: list[str]
    lines: Iterator[str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Answer(NamedTuple):
    status: int
    notices: list[str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class UnixHttp:
    """One kept-alive connection to the daemon's socket; JSON in, status and bytes out."""

    def __init__(self, path: str, *, connect_timeout: float, timeout: float) -> None:
        self._path, self._connect_timeout, self._timeout = path, connect_timeout, timeout
        self._sock: socketlib.socket | None = None
        self._reader: IO[bytes] | None = None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = None

    def request(self, method: str, route: str, *, params: dict[str, Any] | None = None,
                body: Any = None, notice_header: str = "") -> Answer:
        message = _message(method, route, params, body)
        reused = self._sock is not None
        if not reused:
            self._open()
        try:
            return self._exchange(message, notice_header.lower())
        except _Stale:
            if not reused:  # a fresh connection cut before any answer: the daemon went away
                raise
        self._open()  # the daemon closed the idle kept-alive connection: once more, anew
        return self._exchange(message, notice_header.lower())

    def stream(self, route: str, body: Any, *, notice_header: str = "") -> Streamed:
        """POST ``body`` and answer with the body's lines as they come (no read timeout:
        an operation runs as long as it needs). An error answer comes whole, in ``body``.
        Always on a fresh connection, closed when the lines end."""
        self.close()
        self._open()
        assert self._sock is not None and self._reader is not None
        reader = self._reader
        with self._closed_on_failure():
            self._sock.sendall(_message("POST", route, None, body))
            self._sock.settimeout(None)
            status, headers = _read_head(reader)
            notices = headers.get(notice_header.lower(), [])
            if not 200 <= status < 300:
                return Streamed(status, notices, iter(()), _read_body(reader, status, headers))
        return Streamed(status, notices, self._lines(reader, headers), b"")

    def _lines(self, reader: IO[bytes], headers: dict[str, list[str]]) -> Iterator[str]:
        """The body's lines; a connection cut (or garbled) mid-body simply ends them."""
        if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
            pieces = _chunks(reader)
        elif "content-length" in headers:
            pieces = iter([_read_exactly(reader, int(headers["content-length"][0]))])
        else:
            pieces = iter(reader.readline, b"")
        pending = b""
        try:
            for piece in pieces:
                *lines, pending = (pending + piece).split(b"\n")
                yield from (line.decode("utf-8") for line in lines)
        except (OSError, ProtocolError, ValueError):
            return
        finally:
            self.close()
        if pending:
            yield pending.decode("utf-8")

    def _open(self) -> None:
        sock = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
        try:
            sock.settimeout(self._connect_timeout)
            sock.connect(self._path)
        except OSError as exc:
            sock.close()
            raise WireError("timeout" if isinstance(exc, TimeoutError) else "connect",
                            exc) from exc
        sock.settimeout(self._timeout)
        self._sock, self._reader = sock, sock.makefile("rb")

    def _exchange(self, message: bytes, notice_header: str) -> Answer:
        assert self._sock is not None and self._reader is not None
        with self._closed_on_failure():
            self._sock.sendall(message)
            status, headers = _read_head(self._reader)
            body = _read_body(self._reader, status, headers)
        if "close" in headers.get("connection", []):
            self.close()
        return Answer(status, headers.get(notice_header, []), body)

    @contextmanager
    def _closed_on_failure(self) -> Iterator[None]:
        """Any failure closes the connection and is raised as a ``WireError`` of its kind
        (``_Stale`` when the daemon dropped it before answering)."""
        try:
            yield
        except WireError:
            self.close()
            raise
        except TimeoutError as exc:
            self.close()
            raise WireError("timeout", exc) from exc
        except (BrokenPipeError, ConnectionResetError) as exc:
            self.close()
            raise _Stale("transport", exc) from exc
        except (OSError, ProtocolError, ValueError) as exc:
            self.close()
            raise WireError("transport", exc) from exc


def _message(method: str, route: str, params: dict[str, Any] | None, body: Any) -> bytes:
    url = route + ("?" + query(params) if params else "")
    payload = b""
    head = [f"{method} {url} HTTP/1.1", f"Host: {HOST}", "Accept: application/json"]
    if body is not None:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                             allow_nan=False).encode("utf-8")
        head.append("Content-Type: application/json")
    if body is not None or method != "GET":
        head.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + payload


def _read_head(reader: IO[bytes]) -> tuple[int, dict[str, list[str]]]:
    """The status code and the header fields (lower-case names, each a list of values)."""
    line = reader.readline(MAX_LINE)
    if not line:
        raise _Stale("transport", ProtocolError("the connection closed before an answer"))
    version, _, rest = line.decode("latin-1").partition(" ")
    if not version.startswith("HTTP/1.") or not rest[:3].isdigit():
        raise ProtocolError(f"not an HTTP/1.1 status line: {line[:100]!r}")
    headers: dict[str, list[str]] = {}
    for _ in range(MAX_HEADERS):
        field = reader.readline(MAX_LINE).decode("latin-1")
        if field in ("\r\n", "\n"):
            return int(rest[:3]), headers
        name, colon, value = field.partition(":")
        if not colon:
            raise ProtocolError(f"not a header line: {field[:100]!r}")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    raise ProtocolError(f"more than {MAX_HEADERS} header lines")


def _read_body(reader: IO[bytes], status: int, headers: dict[str, list[str]]) -> bytes:
    """The body, framed by chunks, by ``Content-Length``, or by the end of the connection."""
    if status in (204, 304) or 100 <= status < 200:
        return b""
    if "chunked" in ",".join(headers.get("transfer-encoding", [])).lower():
        return _read_chunks(reader)
    if "content-length" in headers:
        return _read_exactly(reader, int(headers["content-length"][0]))
    headers.setdefault("connection", []).append("close")
    return reader.read()


def _read_chunks(reader: IO[bytes]) -> bytes:
    return b"".join(_chunks(reader))


def _chunks(reader: IO[bytes]) -> Iterator[bytes]:
    """A chunked body's chunks, as they arrive."""
    while True:
        size = int(reader.readline(MAX_LINE).split(b";")[0].strip() or b"x", 16)
        if size == 0:
            while reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields: none that we use
            return
        yield _read_exactly(reader, size)
        reader.readline(MAX_LINE)  # the CRLF after each chunk


def _read_exactly(reader: IO[bytes], size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise ProtocolError(f"the connection closed after {len(data)} of {size} bytes")
    return data


def query(params: dict[str, Any]) -> str:
    """The query string httpx would send for ``params``: booleans as ``true``/``false``,
    ``None`` as empty, a list as the key repeated."""
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, _primitive(item)))
    return urlencode(pairs)


def _primitive(value: Any) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    return "" if value is None else str(value)

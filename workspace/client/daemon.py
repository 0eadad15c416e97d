"""The door to the daemon: HTTP over its Unix socket, or over TCP with a token (docs/api.md).

Everything that can go wrong on the wire becomes a ``WorkspaceError`` here:

    connection refused, socket missing  -> DaemonUnreachable (exit 6)
    socket not accessible               -> PermissionDenied (exit 4)
    non-2xx answer                      -> the error class the daemon named
    401 to a bearer token (TCP)         -> AuthenticationRequired, hint: log in again
    stream cut before result/error      -> WorkspaceError (exit 1), nothing half-done

With ``remote=`` (``ws --server URL``) the same routes go over TCP to URL,
with the token as ``Authorization: Bearer`` (see credentials.py).

Two transports behind this one door: plain JSON requests on the local socket
go through ``unixhttp`` (the standard library, a few milliseconds to import);
streams, downloads and every request to a remote server go through httpx,
imported when first needed (tens of milliseconds: a no-op `ws status` never
pays it). Both transports' failures become the errors above.
"""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from workspace.client.unixhttp import UnixHttp, WireError
from workspace.errors import (
    AuthenticationRequired,
    DaemonUnreachable,
    PermissionDenied,
    WorkspaceError,
)

if TYPE_CHECKING:
    import httpx

    from workspace.client.credentials import Remote

Json = dict[str, Any]
EventSink = Callable[[Json], None]

NOTICE_HEADER = "x-workspace-notice"
"""One per pending notice, each a JSON string (api/notices.py)."""
REQUEST_TIMEOUT = 300.0
"""Seconds for an ordinary request; `status` of a large workspace scans every file."""
CONNECT_TIMEOUT = 10.0
SKEW_HINT = (
    "the CLI and the daemon may be different versions: compare `ws --version` "
    "with the daemon's `GET /v1/health`"
)


class DaemonClient:
    """Calls the daemon's routes and returns their JSON bodies (or raises)."""

    def __init__(self, socket: Path | None = None, *, remote: Remote | None = None,
                 on_notice: Callable[[str], None] | None = None) -> None:
        self.socket = socket
        self.remote = remote
        self.on_notice = on_notice or print_notice
        self._httpx: httpx.Client | None = None
        self._unix = None if remote is not None else UnixHttp(
            str(socket), connect_timeout=CONNECT_TIMEOUT, timeout=REQUEST_TIMEOUT)

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._unix is not None:
            self._unix.close()
        if self._httpx is not None:
            self._httpx.close()

    @property
    def _http(self) -> httpx.Client:
        """The httpx client (TCP, streams, downloads), built on first use."""
        if self._httpx is None:
            self._httpx = (_tcp_client(self.remote) if self.remote is not None
                           else _socket_client(self.socket))
        return self._httpx

    def get(self, route: str, params: dict[str, Any] | None = None) -> Json:
        return self._call("GET", route, params=_given(params))

    def post(self, route: str, body: Json) -> Json:
        return self._call("POST", route, body=body)

    def delete(self, route: str, params: dict[str, Any] | None = None) -> Json:
        return self._call("DELETE", route, params=_given(params))

    def _call(self, method: str, route: str, *, params: dict[str, Any] | None = None,
              body: Json | None = None) -> Json:
        """One JSON request: over the socket with the standard library, else with httpx."""
        with self._wire():
            if self._unix is None:
                return self._decode(self._http.request(method, route, params=params, json=body))
            answer = self._unix.request(method, route, params=params, body=body,
                                        notice_header=NOTICE_HEADER)
        self._tell(answer.notices)
        return _decode_body(answer.status, answer.ok, answer.body)

    def stream(self, route: str, body: Json, on_event: EventSink) -> Json:
        """POST a streaming operation; ``on_event`` sees start/progress; returns the result."""
        if self._unix is not None:
            with self._wire():
                answer = self._unix.stream(route, body, notice_header=NOTICE_HEADER)
            self._tell(answer.notices)
            if not answer.ok:
                return _decode_body(answer.status, answer.ok, answer.body)
            return consume_events(answer.lines, on_event)
        import httpx

        no_read_limit = httpx.Timeout(None, connect=CONNECT_TIMEOUT)
        with self._wire(), self._http.stream("POST", route, json=body, timeout=no_read_limit) as r:
            self._tell_notices(r)
            if not r.is_success:
                r.read()
                return _decode(r)
            return consume_events(_lines(r), on_event)

    def download(self, route: str, params: dict[str, Any], *, start: int = 0) -> Download:
        """A GET whose body is raw bytes, from byte ``start`` on, kept open to be read in
        pieces (bounded memory); the caller closes it."""
        import httpx

        headers = {"range": f"bytes={start}-"} if start else {}
        request = self._http.build_request("GET", route, params=params, headers=headers,
                                           timeout=httpx.Timeout(None, connect=CONNECT_TIMEOUT))
        with self._wire():
            response = self._http.send(request, stream=True)
            self._tell_notices(response)
            if not response.is_success:
                try:
                    response.read()
                    _decode(response)  # raises the daemon's error
                finally:
                    response.close()
        return Download(self, response)

    def _decode(self, response: httpx.Response) -> Json:
        self._tell_notices(response)
        return _decode(response)

    def _tell_notices(self, response: httpx.Response) -> None:
        self._tell(response.headers.get_list(NOTICE_HEADER))

    def _tell(self, notices: Iterable[str]) -> None:
        for raw in notices:
            try:
                text = json.loads(raw)
            except ValueError:
                continue
            if isinstance(text, str):
                self.on_notice(text)

    @contextmanager
    def _wire(self) -> Iterator[None]:
        try:
            yield
        except AuthenticationRequired as exc:
            if self.remote is None or self.remote.token is None:
                raise
            raise AuthenticationRequired(exc.message, hint=self.remote.relogin_hint(),
                                         details=exc.details) from None
        except WireError as exc:
            raise self._wire_error(exc.kind, exc.__cause__ or exc) from exc
        except Exception as exc:
            kind = _httpx_kind(exc)
            if kind is None:
                raise
            raise self._wire_error(kind, exc) from exc

    def _wire_error(self, kind: str, exc: BaseException) -> WorkspaceError:
        """Either transport's failure (``connect``, ``timeout``, ``transport``) as ours."""
        if kind == "connect":
            return self._cannot_connect(exc)
        if kind == "timeout":
            return WorkspaceError(
                f"the daemon did not answer in time ({exc.__class__.__name__})",
                hint="it may be overloaded: try again, and check its log",
            )
        return WorkspaceError(
            f"lost the connection to the daemon: {exc}",
            hint="check that it is still running (`ws status`), then try again",
        )

    def _cannot_connect(self, exc: BaseException) -> WorkspaceError:
        if self.remote is not None:
            return DaemonUnreachable(
                f"no workspace daemon answers at {self.remote.server} ({exc})",
                hint="check the URL, and that the daemon listens there (`ws serve --tcp`)",
            )
        if _errno(exc) == errno.EACCES:
            return PermissionDenied(
                f"you may not connect to the workspace daemon's socket {self.socket}",
                hint="ask the server's admin to add you to the group that may use it",
            )
        return DaemonUnreachable(
            f"no workspace daemon is listening on {self.socket}",
            hint="start it with `ws serve` (single user) or `systemctl start workspace` "
            "(shared server); set WORKSPACE_SOCKET if it listens elsewhere",
        )


class Download:
    """An open byte stream from the daemon (``DaemonClient.download``)."""

    def __init__(self, client: DaemonClient, response: httpx.Response) -> None:
        self._client, self._response = client, response

    @property
    def headers(self) -> Any:
        return self._response.headers

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives; a cut connection is an error, not a short read."""
        with self._client._wire():
            yield from self._response.iter_raw()

    def close(self) -> None:
        self._response.close()


def print_notice(text: str) -> None:
    """A notice from the daemon (e.g. "bob broke your lock"), on stderr, control
    characters escaped: it may quote names other users chose."""
    shown = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    print(f"notice: {shown}", file=sys.stderr)


def _socket_client(socket: Path | None) -> httpx.Client:
    import ssl

    import httpx

    # TLS is never spoken on the socket; an empty trust store spares loading
    # certifi's CA bundle (~20 ms of every command) and would refuse any TLS.
    no_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return httpx.Client(
        transport=httpx.HTTPTransport(uds=str(socket), verify=no_tls),
        base_url="http://ws",
        timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT),
    )


def _tcp_client(remote: Remote) -> httpx.Client:
    """Plain httpx to the server's URL (https verified as usual), the token as a header."""
    import httpx

    headers = {"Authorization": f"Bearer {remote.token}"} if remote.token else {}
    return httpx.Client(
        base_url=remote.server,
        headers=headers,
        timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT),
    )


def consume_events(lines: Iterable[str], on_event: EventSink) -> Json:
    """Read NDJSON events up to the result; a stream that just stops is an error."""
    for line in lines:
        if not line.strip():
            continue
        event = _parse_json(line)
        kind = event.get("event")
        if kind == "result":
            return _as_object(event.get("result"))
        if kind == "error":
            raise WorkspaceError.from_payload(event)
        on_event(event)
    raise WorkspaceError(
        "the daemon stopped in the middle of the operation",
        hint="nothing was half-committed: run the command again; `ws status` shows where you are",
    )


def require(obj: Json, key: str) -> Any:
    """``obj[key]`` for answers the CLI cannot do without (a missing key is a version skew)."""
    if key not in obj:
        raise WorkspaceError(f"the daemon's answer lacks {key!r}", hint=SKEW_HINT)
    return obj[key]


def workspace_root(answer: Json) -> str:
    """The workspace root in a locate or status answer (an object with `path`, or the path)."""
    workspace = answer.get("workspace")
    root = workspace.get("path") if isinstance(workspace, dict) else workspace
    if not isinstance(root, str):
        raise WorkspaceError("the daemon's answer names no workspace root", hint=SKEW_HINT)
    return root


def _lines(response: httpx.Response) -> Iterator[str]:
    """The body's lines; a connection cut mid-body simply ends them."""
    import httpx

    try:
        yield from response.iter_lines()
    except httpx.TransportError:
        return


def _decode(response: httpx.Response) -> Json:
    return _decode_body(response.status_code, response.is_success, response.content)


def _decode_body(status: int, ok: bool, content: bytes) -> Json:
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise WorkspaceError(
            f"the daemon answered HTTP {status} with a body that is not JSON",
            hint="is something else listening on this socket? check WORKSPACE_SOCKET",
        ) from exc
    if not ok:
        raise WorkspaceError.from_payload(body)
    return _as_object(body)


def _given(params: dict[str, Any] | None) -> dict[str, Any]:
    return {key: value for key, value in (params or {}).items() if value is not None}


def _httpx_kind(exc: Exception) -> str | None:
    """Which step an httpx error failed at; None for anything else (httpx is not imported
    to answer: if it was never loaded, the error cannot be one of its)."""
    httpx = sys.modules.get("httpx")
    if httpx is None or not isinstance(exc, httpx.HTTPError):
        return None
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "transport" if isinstance(exc, httpx.TransportError) else None


def _parse_json(line: str) -> Json:
    try:
        return _as_object(json.loads(line))
    except ValueError as exc:
        raise WorkspaceError(
            f"the daemon sent an unreadable progress line: {line[:200]!r}",
            hint="the operation's outcome is unknown: `ws status` shows where you are",
        ) from exc


def _as_object(value: object) -> Json:
    if not isinstance(value, dict):
        raise WorkspaceError(
            "the daemon sent an answer of an unexpected shape",
            details={"raw": value},
            hint=SKEW_HINT,
        )
    return value


def _errno(exc: BaseException | None) -> int | None:
    """The OS error number behind an httpx error (httpx keeps it in the cause chain)."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno is not None:
            return exc.errno
        exc = exc.__cause__ or exc.__context__
    return None

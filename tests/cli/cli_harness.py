"""The CLI tests' harness: a fake daemon on a real Unix socket, and the real `ws`.

The fake is a stdlib HTTP server bound to an AF_UNIX socket in a thread of
the test process. It answers each route with a canned reply (JSON, or NDJSON
events, possibly cut short) and records every request, so tests check both
what the CLI sent and what the user saw. Every canned answer must have the
shape of the real daemon's answer to that route (``real_shapes.json``,
recorded from a real daemon by ``test_fake_contract.py``), unless a test
says it is deliberately malformed; the write results are built from the
daemon's own result classes.
"""

from __future__ import annotations

import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.cli import real_shapes
from workspace.api.schemas import dumps
from workspace.datasets.manifest import ManifestEntry, digest
from workspace.datasets.versions import VersionInfo
from workspace.errors import WorkspaceError
from workspace.workspaces.ingest import Summary
from workspace.workspaces.results import OpResult, TrackedInfo, pointer_info

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    events: list[Any] | None = None  # NDJSON lines (dicts, or raw strings)
    chunked: bool = True
    complete: bool = True  # False: close the connection mid-body


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class FakeDaemon:
    socket: Path
    replies: dict[tuple[str, str], Reply] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def reply(self, method: str, path: str, body: Any = None, status: int = 200, *,
              malformed: bool = False) -> None:
        """Answer ``method path`` with ``body``; unless ``malformed``, only with a body
        the real daemon could send (real_shapes.check)."""
        if not malformed:
            real_shapes.check("error" if status >= 300 else f"{method} {path}", body)
        self.replies[(method, path)] = Reply(status=status, body=body)

    def stream(self, path: str, events: list[Any], **options: Any) -> None:
        for event in events:
            if isinstance(event, dict):
                _check_event(path, event)
        self.replies[("POST", path)] = Reply(events=events, **options)

    def error(self, method: str, path: str, code: str, status: int, message: str = "no") -> None:
        error = WorkspaceError.from_payload({"error": {"code": code, "message": message,
                                                       "hint": f"hint for {code}"}})
        assert (error.code, error.http_status) == (code, status), (code, status)
        self.reply(method, path, error.to_payload(), status=status)

    def sent(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def answer_write(self, route: str, root: Path, tracked: str = "data", **kw: Any) -> Any:
        """Answer a streaming write with start, progress and the result; returns the result."""
        result = write_result(root, tracked, **kw)
        self.stream(route, events_for(result))
        return result


def write_result(
    root: Path,
    tracked: str = "data",
    *,
    dataset: str = "vision/cats",
    version: int = 1,
    kind: str = "dir",
    unchanged: bool = False,
) -> dict[str, Any]:
    """An add/commit/checkout/get result, built from the daemon's own result classes
    and encoded by its own encoder: 3 files, 39.1 MiB, 2 new objects and 1 deduplicated."""
    info = version_info(dataset, version)
    summary = Summary(files=3, bytes=41000000, new_objects=2, new_bytes=40000000,
                      deduplicated=1, linked=3, seconds=1.5)
    result = OpResult(TrackedInfo(str(root), tracked, dataset, version, kind),
                      pointer_info(tracked, info), summary, version=info, unchanged=unchanged)
    encoded: dict[str, Any] = json.loads(dumps(result))
    return encoded


def version_info(dataset: str = "vision/cats", number: int = 2, *,
                 message: str = "fix labels\n\nlong explanation", files: int = 3,
                 tags: tuple[str, ...] = (), aliases: tuple[str, ...] = ()) -> VersionInfo:
    """A version as the daemon describes it (39.1 MiB), with a digest computed its way."""
    entries = [ManifestEntry(f"f{i}.bin", f"{i:064x}", 41000000 // files, False)
               for i in range(files)]
    return VersionInfo(dataset=dataset, number=number, author="alice",
                       created_at=datetime(2026, 11, 21, 19, 20, 15, 123456, tzinfo=UTC),
                       message=message, files=files, bytes=41000000, digest=digest(entries),
                       tags=list(tags), git=None, aliases=list(aliases))


def encoded(value: Any) -> Any:
    """``value`` as the daemon would put it on the wire."""
    return json.loads(dumps(value))


def _check_event(path: str, event: dict[str, Any]) -> None:
    kind = event.get("event")
    if kind == "result":
        real_shapes.check(f"POST {path}", event.get("result"))
    elif kind == "error":
        real_shapes.check("error", {"error": event.get("error")})
    else:
        real_shapes.check(f"event:{kind}", event)


def events_for(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"event": "start", "files": 3, "bytes": 41000000},
        {"event": "progress", "files": 1, "bytes": 1000000},
        {"event": "progress", "files": 3, "bytes": 41000000},
        {"event": "result", "result": result},
    ]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeDaemon

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        self.fake.requests.append(
            Request(self.command, url.path, query, json.loads(raw) if raw else None)
        )
        reply = self.fake.replies.get((self.command, url.path))
        if reply is None:
            reply = Reply(404, {"error": {"code": "not_found", "message": f"no route {url.path}"}})
        if reply.events is None:
            self._send_json(reply)
        else:
            self._send_events(reply)

    def _send_json(self, reply: Reply) -> None:
        data = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _send_events(self, reply: Reply) -> None:
        assert reply.events is not None
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Connection", "close")
        if reply.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in reply.events:
            line = (event if isinstance(event, str) else json.dumps(event)) + "\n"
            data = line.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if reply.chunked else data)
            self.wfile.flush()
        if reply.chunked and reply.complete:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_cli(*args: str, cwd: Path, home: Path, env: dict[str, str] | None = None) -> Run:
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("WORKSPACE_")}
    environment.update(
        {"WORKSPACE_HOME": str(home / ".ws-home"), "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    )
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "workspace.cli.main", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@contextmanager
def serving() -> Iterator[FakeDaemon]:
    """A fake daemon listening on a fresh socket (short path: AF_UNIX allows ~107 bytes)."""
    directory = tempfile.mkdtemp(prefix="wsd", dir="/tmp")
    fake = FakeDaemon(socket=Path(directory) / "ws.sock")
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = _Server(str(fake.socket), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(directory, ignore_errors=True)

"""The access tests' additions to cli_harness: headers seen, a TCP fake, stdin for `ws`.

The remote door is plain HTTP over TCP, so the same fake handler serves on
127.0.0.1 (an ephemeral port) and also records each request's headers, to
check which bearer token `ws` sent. `ws` runs in a new session with stdin a
pipe, as in a script: it then reads passwords from stdin, never from a
terminal the test runner may have.
"""

from __future__ import annotations

import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.cli.cli_harness import REPO, FakeDaemon, Run, _Handler


@dataclass
class TcpFake(FakeDaemon):
    """A fake daemon on TCP: ``url`` to pass as --server, ``headers`` per request."""

    url: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)

    def bearers(self, path: str) -> list[str | None]:
        """The Authorization header of each request to ``path``, in order."""
        pairs = zip(self.requests, self.headers, strict=True)
        return [headers.get("authorization") for request, headers in pairs if request.path == path]


class _RecordingHandler(_Handler):
    fake: TcpFake

    def _answer(self) -> None:
        self.fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        super()._answer()


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def serving_tcp() -> Iterator[TcpFake]:
    fake = TcpFake(socket=Path("/nonexistent"))
    handler = type("Handler", (_RecordingHandler,), {"fake": fake})
    server = _TcpServer(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def run_ws(*args: str, cwd: Path, env: dict[str, str], stdin: str = "") -> Run:
    """`ws ARGS` with only ``env``'s WORKSPACE_* variables and ``stdin`` piped in."""
    environment = {k: v for k, v in os.environ.items() if not k.upper().startswith("WORKSPACE_")}
    environment.update({"PYTHONPATH": str(REPO), "COLUMNS": "200", **env})
    done = subprocess.run(
        [sys.executable, "-m", "workspace.cli.main", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    return Run(done.returncode, done.stdout, done.stderr)

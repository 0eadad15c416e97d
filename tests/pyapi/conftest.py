"""A daemon (alice's, single-user, SQLite) with a dataset for the Python API's tests.

``vision/cats`` version 2 holds a CSV and a 10 MiB binary (bigger than one
streamed chunk); version 3 changes the CSV. bob and root (the test process
itself, for in-process reads) read ``vision/*``; carol has no role. The daemon
also listens on TCP, for the remote (token) door.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.daemon import as_user
from tests.support.runtime import Runtime
from tests.support.team import Team, edit, team

BLOB = bytes(range(256)) * (40 * 1024 + 3)  # 10 MiB and a bit, not chunk-aligned
CSV_V1, CSV_V2 = "name,label\ncat001.jpg,tabby\n", "name,label\ncat001.jpg,siamese\n"


@dataclass
class World:
    team: Team
    tcp: str

    def python(self, who: str, code: str, *, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``code`` as ``who``'s own process, with the daemon's socket in its environment."""
        daemon = self.team.daemon
        proc = subprocess.run([daemon.runtime.python, "-c", code], cwd=self.team.dirs[who],
                              env={**daemon.env(), **(env or {})}, capture_output=True,
                              text=True, timeout=120,
                              **as_user(daemon.runtime, self.team.people[who]))
        if check:
            assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc


@pytest.fixture(scope="package")
def world(runtime: Runtime) -> Iterator[World]:
    if os.geteuid() != 0:
        pytest.skip("needs root to create separate Unix users")
    address = f"127.0.0.1:{_free_port()}"
    roles: dict[str, str | None] = {"bob": "reader", "carol": None}
    with team(runtime, "sqlite", roles, env={"WORKSPACE_TCP": address}) as made:
        data = made.dirs["alice"] / "data"
        edit(made, "alice", "data/labels.csv", CSV_V1.encode())
        (data / "blob.bin").write_bytes(BLOB)
        os.chown(data / "blob.bin", made.people["alice"].uid, made.people["alice"].gid)
        made.ws("alice", "commit", "data", "-m", "the CSV and a blob")
        edit(made, "alice", "data/labels.csv", CSV_V2.encode())
        made.ws("alice", "commit", "data", "-m", "relabel")
        made.ws("alice", "user", "add", "root")  # the test process itself, for in-process reads
        made.ws("alice", "role", "grant", "root", "reader", "vision/*")
        yield World(made, f"http://{address}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port

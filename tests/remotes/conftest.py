"""Fixtures for remotes: one S3 server per test worker, data to push, and a second daemon."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime
from tests.support.s3 import MotoServer, daemon_env


@pytest.fixture(scope="session")
def s3() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3: MotoServer) -> str:
    return s3.new_bucket()


@pytest.fixture
def s3_env(s3: MotoServer) -> dict[str, str]:
    return daemon_env(s3.endpoint)


@pytest.fixture(params=["s3", "file"])
def remote_url(request: pytest.FixtureRequest, runtime: Runtime, alice: Identity,
               s3: MotoServer) -> str:
    """Each kind of remote: a fresh bucket on the S3 server, or a fresh directory."""
    if request.param == "s3":
        return f"s3://{s3.new_bucket()}/team/data"
    return f"file://{runtime.make_dir(alice, 'remote')}/store"


DaemonFactory = Callable[..., Daemon]


@pytest.fixture
def start_daemon(runtime: Runtime, alice: Identity,
                 s3_env: dict[str, str]) -> Iterator[DaemonFactory]:
    """Start daemons (each with its own WORKSPACE_HOME) that can reach the S3 server."""
    started: list[Daemon] = []

    def start(database_url: str | None = None, *, shared: bool = False, **extra: str) -> Daemon:
        """``shared``: the socket outside the 0700 home, for other users' CLIs."""
        home = runtime.make_dir(alice, "home")
        url = database_url or f"sqlite:///{home / 'workspace.db'}"
        sockets = runtime.make_dir(alice, "sock") if shared else None
        daemon = Daemon(runtime, alice, home, url, extra_env={**s3_env, **extra},
                        socket_dir=sockets).start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        daemon.stop()
        if daemon.log_path.exists():  # shown by pytest only when the test failed
            print(f"--- {daemon.log_path.name} ---\n{daemon.log_path.read_text()[-6000:]}")


def make_project(runtime: Runtime, who: Identity, daemon: Daemon, *, small: int = 20,
                 large: int = 1) -> Path:
    """A workspace with ``data/``: small files (packed on a remote) and large ones (loose)."""
    project = runtime.make_dir(who, "project")
    data = project / "data"
    (data / "small").mkdir(parents=True)
    for i in range(small):
        (data / "small" / f"{i:03d}.txt").write_text(f"row {i}\n" * (i + 1))
    for i in range(large):
        (data / f"big{i}.bin").write_bytes(os.urandom(1024 * 1024 + 4096 * i + 17))
    give(project, who)
    daemon.ws("init", cwd=project)
    return project


def add_and_push(daemon: Daemon, project: Path, url: str, *, default: bool = False,
                 message: str = "v1") -> None:
    """``project``'s data added as vision/cats, pushed to the remote ``origin`` at ``url``."""
    daemon.ws("add", "data", "-d", "vision/cats", "-m", message, cwd=project)
    daemon.ws("remote", "add", "origin", url, *(["--default"] if default else []), cwd=project)
    daemon.ws("push", "vision/cats", cwd=project)

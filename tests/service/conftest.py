"""Service mode with real, distinct Unix users: the daemon runs as ``wst-svc``,
``wst-alice`` and ``wst-bob`` run the CLI. Needs root (to create the users);
modules that need it skip otherwise."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, private_dir, start_service_daemon

AS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(
    not AS_ROOT, reason="creates Unix users (svc, alice, bob) and runs processes as them")


@pytest.fixture(scope="package")
def svc(runtime: Runtime) -> Identity:
    return runtime.user("svc")


@pytest.fixture(scope="package")
def bob(runtime: Runtime) -> Identity:
    return runtime.user("bob")


@pytest.fixture(scope="package")
def alice_user(runtime: Runtime) -> Identity:
    return runtime.user("alice")


@pytest.fixture(scope="package")
def service(runtime: Runtime, svc: Identity) -> Iterator[ServiceDaemon]:
    """One service-mode daemon for the package; tests use their own datasets and dirs."""
    daemon = start_service_daemon(runtime, svc)
    yield daemon
    daemon.stop()


def home_of(runtime: Runtime, who: Identity) -> Path:
    """A private (0700) home with an empty project in it, as `adduser` makes on Debian 12."""
    home = private_dir(runtime, who, f"{who.name}-home")
    project = home / "project"
    project.mkdir(mode=0o700)
    os.chown(project, who.uid, who.gid)
    return project

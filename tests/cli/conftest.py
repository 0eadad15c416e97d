"""Fixtures for the CLI tests: a fake daemon, and `ws` run as a subprocess against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.cli_harness import FakeDaemon, Run, run_cli, serving


@pytest.fixture
def fake() -> Iterator[FakeDaemon]:
    with serving() as running:
        yield running


@pytest.fixture
def ws(fake: FakeDaemon, tmp_path: Path) -> Any:
    """Run the real CLI against the fake daemon: ``ws("status", cwd=...)``."""

    def run(*args: str, cwd: Path | None = None) -> Run:
        return run_cli("--socket", str(fake.socket), *args, cwd=cwd or tmp_path, home=tmp_path)

    return run

"""Fixtures for the store tests: a real store and a real workspace directory in temp dirs."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workspace.store import ObjectStore, prepare_leases

MakeFile = Callable[..., Path]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ObjectStore]:
    """A fresh store under the test's temp dir (ext4 here)."""
    opened = ObjectStore.open(tmp_path / "store")
    yield opened
    opened.close()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace directory on the same filesystem as the store."""
    path = tmp_path / "ws"
    path.mkdir()
    return path


@pytest.fixture
def ws_fd(ws: Path) -> Iterator[int]:
    """A directory fd on the workspace, as the daemon would hold it."""
    fd = os.open(ws, os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


@pytest.fixture
def shm_dir() -> Iterator[Path]:
    """A directory on /dev/shm (tmpfs), another filesystem than the store's."""
    path = Path(tempfile.mkdtemp(prefix="ws-store-test-", dir="/dev/shm"))
    yield path
    for child in sorted(path.rglob("*"), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()
    path.rmdir()


@pytest.fixture
def make_file() -> MakeFile:
    """Write ``data`` at ``path`` with ``mode``; returns the path."""

    def make(path: Path, data: bytes, mode: int = 0o644) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
        return path

    return make


@pytest.fixture
def leases_ready() -> Iterator[None]:
    """What the daemon does at start; the previous SIGIO disposition is restored after."""
    previous = signal.getsignal(signal.SIGIO)
    prepare_leases()
    yield
    signal.signal(signal.SIGIO, previous)

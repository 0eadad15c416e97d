"""Read leases: the kernel's proof that nobody wrote a file while it was being adopted."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from workspace.store.leases import (
    lease_intact,
    leases_prepared,
    release_lease,
    take_read_lease,
)

from .conftest import MakeFile


@pytest.fixture
def reader(tmp_path: Path, make_file: MakeFile) -> Iterator[int]:
    fd = os.open(make_file(tmp_path / "f", b"x"), os.O_RDONLY)
    yield fd
    os.close(fd)


def test_prepare_leases_is_observable(leases_ready: None) -> None:
    assert leases_prepared()
    signal.signal(signal.SIGIO, signal.SIG_DFL)
    assert not leases_prepared()


@pytest.mark.usefixtures("leases_ready")
def test_no_lease_while_a_writer_exists(tmp_path: Path, reader: int) -> None:
    writer = os.open(tmp_path / "f", os.O_WRONLY)
    try:
        assert not take_read_lease(reader)
    finally:
        os.close(writer)
    assert take_read_lease(reader)
    release_lease(reader)


@pytest.mark.usefixtures("leases_ready")
def test_an_attempt_to_write_breaks_the_lease(tmp_path: Path, reader: int) -> None:
    assert take_read_lease(reader)
    assert lease_intact(reader)
    with pytest.raises(BlockingIOError):  # a blocking open would wait for our release
        os.open(tmp_path / "f", os.O_WRONLY | os.O_NONBLOCK)
    assert not lease_intact(reader)
    release_lease(reader)
    os.close(os.open(tmp_path / "f", os.O_WRONLY))  # released: writers proceed at once

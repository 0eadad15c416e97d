"""Adoption: in single-user mode the user's own inode becomes the object, when that is safe."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from workspace.store import ObjectStore, Staged, hash_bytes

from .conftest import MakeFile
from .helpers import object_files, tmp_entries

pytestmark = pytest.mark.usefixtures("leases_ready")


@pytest.fixture
def user_file(ws: Path, make_file: MakeFile) -> Path:
    return make_file(ws / "data.bin", b"user data\n" * 1000, mode=0o640)


@pytest.fixture
def reader(user_file: Path) -> Iterator[int]:
    """The daemon's O_RDONLY fd on the user's file (leases need a read-only fd)."""
    fd = os.open(user_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    yield fd
    os.close(fd)


def adopt(store: ObjectStore, ws_fd: int, name: str, fd: int) -> Staged | None:
    with store.batch() as batch:
        return batch.adopt(ws_fd, name, fd)


def test_the_users_inode_becomes_the_object(
    store: ObjectStore, ws_fd: int, user_file: Path, reader: int
) -> None:
    before = user_file.stat()
    content = user_file.read_bytes()
    staged = adopt(store, ws_fd, user_file.name, reader)
    assert staged == Staged(hash_bytes(content), len(content), new=True)
    obj = store.object_path(staged.oid).stat()
    assert (obj.st_dev, obj.st_ino) == (before.st_dev, before.st_ino)
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o444
    assert user_file.stat().st_nlink == 2
    assert user_file.read_bytes() == content
    assert store.verify(staged.oid)
    assert tmp_entries(store) == []


def test_refused_while_the_file_is_open_for_writing(
    store: ObjectStore, ws_fd: int, user_file: Path, reader: int
) -> None:
    writer = os.open(user_file, os.O_WRONLY)  # any writer, even our own, blocks a lease
    try:
        assert adopt(store, ws_fd, user_file.name, reader) is None
    finally:
        os.close(writer)
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o640
    assert object_files(store) == [] and tmp_entries(store) == []


def test_refused_when_the_file_has_another_link(
    store: ObjectStore, ws: Path, ws_fd: int, user_file: Path, reader: int
) -> None:
    os.link(user_file, ws / "second-name")
    assert adopt(store, ws_fd, user_file.name, reader) is None
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o640
    assert object_files(store) == []


def test_refused_for_an_executable(
    store: ObjectStore, ws_fd: int, user_file: Path, reader: int
) -> None:
    user_file.chmod(0o750)  # a 0444 object would take the exec bit away
    assert adopt(store, ws_fd, user_file.name, reader) is None
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o750


def test_refused_for_another_owners_file(
    store: ObjectStore, ws_fd: int, user_file: Path, reader: int
) -> None:
    os.chown(user_file, 65534, 65534)
    assert adopt(store, ws_fd, user_file.name, reader) is None
    assert object_files(store) == []


def test_refused_before_leases_are_prepared(
    store: ObjectStore, ws_fd: int, user_file: Path, reader: int
) -> None:
    signal.signal(signal.SIGIO, signal.SIG_DFL)  # a lease break would now kill us
    assert adopt(store, ws_fd, user_file.name, reader) is None
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o640


def test_refused_across_filesystems(store: ObjectStore, shm_dir: Path, make_file: MakeFile) -> None:
    path = make_file(shm_dir / "elsewhere", b"on tmpfs", mode=0o600)
    dir_fd = os.open(shm_dir, os.O_RDONLY | os.O_DIRECTORY)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert adopt(store, dir_fd, path.name, fd) is None
    finally:
        os.close(fd)
        os.close(dir_fd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert object_files(store) == [] and tmp_entries(store) == []


def test_existing_object_leaves_the_file_as_it_was(
    store: ObjectStore, ws: Path, ws_fd: int, user_file: Path, reader: int, make_file: MakeFile
) -> None:
    twin = make_file(ws / "twin", user_file.read_bytes())
    fd = os.open(twin, os.O_RDONLY)
    assert adopt(store, ws_fd, twin.name, fd) is not None
    os.close(fd)
    staged = adopt(store, ws_fd, user_file.name, reader)
    assert staged is not None and not staged.new
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o640
    assert user_file.stat().st_nlink == 1
    assert len(object_files(store)) == 1


def test_abort_gives_the_file_back(
    store: ObjectStore, ws_fd: int, user_file: Path, reader: int
) -> None:
    with pytest.raises(RuntimeError), store.batch() as batch:
        assert batch.adopt(ws_fd, user_file.name, reader) is not None
        assert stat.S_IMODE(user_file.stat().st_mode) == 0o444
        raise RuntimeError("the request failed")
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o640
    assert user_file.stat().st_nlink == 1
    assert object_files(store) == [] and tmp_entries(store) == []

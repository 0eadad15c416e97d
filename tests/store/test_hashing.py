"""Object ids are BLAKE3-256 of the bytes, whatever the size and however they were read."""

from __future__ import annotations

import os
from pathlib import Path

import blake3
import pytest

from workspace.store import hash_bytes, hash_fd, is_oid
from workspace.store.hashing import SMALL_FILE_LIMIT, copy_and_hash

from .conftest import MakeFile

SIZES = [0, 1, 4096, SMALL_FILE_LIMIT - 1, SMALL_FILE_LIMIT, 3 * 1024 * 1024 + 7]


def _hash_file(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return hash_fd(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


@pytest.mark.parametrize("size", SIZES)
def test_hash_fd_matches_blake3_of_the_bytes(
    tmp_path: Path, make_file: MakeFile, size: int
) -> None:
    data = os.urandom(size)
    path = make_file(tmp_path / "f", data)
    assert _hash_file(path) == blake3.blake3(data).hexdigest() == hash_bytes(data)


@pytest.mark.parametrize("size", [0, 4096, 3 * 1024 * 1024 + 7])
def test_copy_and_hash_copies_every_byte(tmp_path: Path, make_file: MakeFile, size: int) -> None:
    data = os.urandom(size)
    src = os.open(make_file(tmp_path / "src", data), os.O_RDONLY)
    dst = os.open(tmp_path / "dst", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        oid = copy_and_hash(src, dst, size)
    finally:
        os.close(src)
        os.close(dst)
    assert oid == blake3.blake3(data).hexdigest()
    assert (tmp_path / "dst").read_bytes() == data


def test_copy_and_hash_works_across_filesystems(
    tmp_path: Path, shm_dir: Path, make_file: MakeFile
) -> None:
    """tmpfs -> ext4 is where copy_file_range gives up (EXDEV); the copy must still happen."""
    data = os.urandom(2 * 1024 * 1024)
    src = os.open(make_file(shm_dir / "src", data), os.O_RDONLY)
    dst = os.open(tmp_path / "dst", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        oid = copy_and_hash(src, dst, len(data))
    finally:
        os.close(src)
        os.close(dst)
    assert oid == hash_bytes(data)
    assert (tmp_path / "dst").read_bytes() == data


def test_is_oid_accepts_only_64_lowercase_hex() -> None:
    assert is_oid(hash_bytes(b"x"))
    assert not is_oid(hash_bytes(b"x").upper())
    assert not is_oid(hash_bytes(b"x")[:-1])
    assert not is_oid("../" + hash_bytes(b"x")[3:])

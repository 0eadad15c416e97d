"""ENOSPC in the store and in a workspace is DiskFull, with no temporary left behind.

On a small file system of the test's own (``tests/support/smallfs.py``:
skipped without root or a loop device).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.smallfs import MIB, fill, free_bytes, small_fs
from workspace.errors import DiskFull
from workspace.store import ObjectStore

from .conftest import MakeFile
from .helpers import object_files, tmp_entries


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    with small_fs(tmp_path, 8) as mounted:
        yield mounted


def test_copying_a_file_larger_than_the_free_space_into_the_store(
        mount: Path, ws: Path, make_file: MakeFile) -> None:
    big = make_file(ws / "big.bin", os.urandom(free_bytes(mount) + MIB))
    with ObjectStore.open(mount / "store") as store:
        fd = os.open(big, os.O_RDONLY)
        try:
            with pytest.raises(DiskFull) as caught, store.batch() as batch:
                batch.ingest_copy(fd)
        finally:
            os.close(fd)
        assert tmp_entries(store) == [] and object_files(store) == []
    error = caught.value
    assert error.details["mount"] == str(mount) and str(mount) in error.message
    assert error.details["needed_bytes"] == big.stat().st_size
    assert 0 < error.details["free_bytes"] < big.stat().st_size
    assert "the store" in error.message and error.hint and "free space" in error.hint


def test_publishing_into_a_full_store_leaves_no_temp(
        mount: Path, ws: Path, make_file: MakeFile) -> None:
    """Staged, then the disk fills: the fan-out mkdir at commit fails, the batch aborts."""
    with ObjectStore.open(mount / "store") as store:
        fd = os.open(make_file(ws / "a.txt", b"tiny\n"), os.O_RDONLY)
        try:
            with pytest.raises(DiskFull), store.batch() as batch:
                batch.ingest_copy(fd)
                fill(mount)
                inodes = os.statvfs(mount).f_ffree
                for index in range(inodes):  # no inode left either: mkdir must fail
                    try:
                        os.close(os.open(mount / f"i{index}", os.O_CREAT | os.O_WRONLY))
                    except OSError:
                        break
        finally:
            os.close(fd)
        assert tmp_entries(store) == [] and object_files(store) == []


def test_a_copy_into_a_full_workspace_leaves_no_temp(
        mount: Path, tmp_path: Path, ws: Path, make_file: MakeFile) -> None:
    with ObjectStore.open(tmp_path / "store") as store:
        fd = os.open(make_file(ws / "big.bin", os.urandom(free_bytes(mount) + MIB)), os.O_RDONLY)
        try:
            with store.batch() as batch:
                oid = batch.ingest_copy(fd).oid
        finally:
            os.close(fd)
        target = os.open(mount, os.O_RDONLY | os.O_DIRECTORY)
        try:
            with pytest.raises(DiskFull) as caught:
                store.link_into(oid, target, "big.bin", prefer="copy")
        finally:
            os.close(target)
    assert sorted(os.listdir(mount)) == ["lost+found"]  # neither the file nor a .ws-tmp-*
    assert caught.value.details["mount"] == str(mount)
    assert "the workspace" in caught.value.message

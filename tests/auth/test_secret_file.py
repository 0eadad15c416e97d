"""The JWT signing secret: made once 0600, reused, and refused when others could have read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workspace.auth import secret_file
from workspace.errors import PermissionDenied, WorkspaceError


def test_the_secret_is_made_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / secret_file.FILE_NAME
    old_umask = os.umask(0)  # even a careless umask must not widen the file
    try:
        first = secret_file.load_or_create(path)
    finally:
        os.umask(old_umask)
    info = path.lstat()
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == os.geteuid()
    assert len(first) == secret_file.SECRET_BYTES
    assert secret_file.load_or_create(path) == first
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left


def test_two_homes_get_different_secrets(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert secret_file.load_or_create(tmp_path / "a" / "s") != secret_file.load_or_create(
        tmp_path / "b" / "s")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_secret_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "s"
    secret_file.load_or_create(path)
    path.chmod(mode)
    with pytest.raises(PermissionDenied) as caught:
        secret_file.load_or_create(path)
    assert f"{mode:04o}" in caught.value.message and "chmod 600" in (caught.value.hint or "")
    assert stat.S_IMODE(path.stat().st_mode) == mode  # refused, not silently "fixed"


def test_a_secret_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root can give a file away")
    path = tmp_path / "s"
    secret_file.load_or_create(path)
    os.chown(path, 65534, 65534)
    with pytest.raises(PermissionDenied, match="owned by uid 65534"):
        secret_file.read(path)


def test_a_symlinked_secret_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "real"
    secret_file.load_or_create(real)
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(PermissionDenied, match="cannot be opened safely"):
        secret_file.load_or_create(tmp_path / "link")


def test_a_dangling_symlink_is_not_followed_to_create_a_secret(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(PermissionDenied):
        secret_file.load_or_create(tmp_path / "link")
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("content", [b"", b"abc\n", b"zz" * 32, b"00" * 16 + b"\n"])
def test_a_damaged_secret_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "s"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(WorkspaceError, match="damaged"):
        secret_file.load_or_create(path)


def test_a_directory_in_its_place_is_refused(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir(mode=0o700)
    with pytest.raises(PermissionDenied, match="not a regular file"):
        secret_file.read(tmp_path / "s")

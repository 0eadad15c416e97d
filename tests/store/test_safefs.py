"""Workspace paths are walked fd by fd and never through a symlink."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workspace.errors import InvalidInput, NotFound, PermissionDenied
from workspace.store import safefs

from .conftest import MakeFile


@pytest.fixture
def tree(ws: Path, make_file: MakeFile) -> Path:
    """ws/real/sub/file.txt, ws/link -> real, ws/outside -> a directory outside ws."""
    make_file(ws / "real" / "sub" / "file.txt", b"inside")
    (ws / "link").symlink_to("real")
    outside = ws.parent / "outside"
    outside.mkdir()
    (ws / "outside").symlink_to(outside)
    return ws


def test_open_root_walks_a_plain_path(tree: Path) -> None:
    fd = safefs.open_root(tree / "real" / "sub", owner_uid=os.geteuid())
    try:
        assert os.listdir(fd) == ["file.txt"]
    finally:
        os.close(fd)


def test_open_root_refuses_a_symlink_component(tree: Path) -> None:
    with pytest.raises(PermissionDenied, match="symbolic link") as caught:
        safefs.open_root(tree / "link" / "sub")
    assert str(tree / "link") in caught.value.message
    assert caught.value.hint
    with pytest.raises(PermissionDenied, match="symbolic link"):
        safefs.open_root(tree / "link")


def test_open_root_checks_the_owner(tree: Path) -> None:
    os.chown(tree / "real", 65534, 65534)
    with pytest.raises(PermissionDenied, match="owned by uid 65534"):
        safefs.open_root(tree / "real", owner_uid=os.geteuid())


def test_open_root_wants_an_absolute_existing_dir(tree: Path) -> None:
    with pytest.raises(InvalidInput):
        safefs.open_root(Path("relative/path"))
    with pytest.raises(InvalidInput):
        safefs.open_root(Path(f"{tree}/real/../real"))
    with pytest.raises(NotFound):
        safefs.open_root(tree / "missing")


@pytest.mark.parametrize("bad", ["/etc", "..", "a/../b", "a//b", "a/./b", "a/", "a\0b"])
def test_split_relpath_refuses_escapes_and_oddities(bad: str) -> None:
    with pytest.raises(InvalidInput):
        safefs.split_relpath(bad)


def test_split_relpath_accepts_plain_paths() -> None:
    assert safefs.split_relpath("") == []
    assert safefs.split_relpath("a/b c/.hidden") == ["a", "b c", ".hidden"]


def test_open_dir_refuses_a_symlink_component(tree: Path, ws_fd: int) -> None:
    with pytest.raises(PermissionDenied, match="link is a symbolic link"):
        safefs.open_dir(ws_fd, "link/sub")
    with pytest.raises(PermissionDenied, match="outside is a symbolic link"):
        safefs.open_dir(ws_fd, "outside", create=True)
    assert os.listdir(tree.parent / "outside") == []


def test_open_dir_missing_and_create(tree: Path, ws_fd: int) -> None:
    with pytest.raises(NotFound):
        safefs.open_dir(ws_fd, "new/deeper")
    fd = safefs.open_dir(ws_fd, "new/deeper", create=True)
    os.close(fd)
    assert (tree / "new" / "deeper").is_dir()
    with pytest.raises(NotFound, match="not a directory"):
        safefs.open_dir(ws_fd, "real/sub/file.txt/x")


def test_open_parent_returns_the_dir_and_name(tree: Path, ws_fd: int) -> None:
    fd, name = safefs.open_parent(ws_fd, "real/sub/file.txt")
    try:
        assert name == "file.txt"
        assert os.listdir(fd) == ["file.txt"]
    finally:
        os.close(fd)
    with pytest.raises(InvalidInput):
        safefs.open_parent(ws_fd, "")


def test_lstat_at(tree: Path, ws_fd: int) -> None:
    found = safefs.lstat_at(ws_fd, "real/sub/file.txt")
    assert found is not None and found.st_size == len(b"inside")
    link = safefs.lstat_at(ws_fd, "link")
    assert link is not None and stat.S_ISLNK(link.st_mode)
    assert safefs.lstat_at(ws_fd, "real/nothing") is None
    assert safefs.lstat_at(ws_fd, "nothing/at/all") is None
    with pytest.raises(PermissionDenied):
        safefs.lstat_at(ws_fd, "link/sub/file.txt")


def test_open_regular_file_accepts_own_regular_file(tree: Path) -> None:
    sub = safefs.open_root(tree / "real" / "sub")
    try:
        fd, st = safefs.open_regular_file(sub, "file.txt", owner_uid=os.geteuid())
    finally:
        os.close(sub)
    try:
        assert os.read(fd, 100) == b"inside"
        assert st.st_size == len(b"inside")
    finally:
        os.close(fd)


def test_open_regular_file_refuses_fifo_symlink_and_strangers(
    ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    os.mkfifo(ws / "pipe")  # opening it for reading would block without O_NONBLOCK
    (ws / "sym").symlink_to(make_file(ws / "target", b"t"))
    make_file(ws / "theirs", b"x")
    os.chown(ws / "theirs", 65534, 65534)
    for name, why in [("pipe", "special file"), ("sym", "symbolic link"), ("theirs", "65534")]:
        with pytest.raises(PermissionDenied, match=why):
            safefs.open_regular_file(ws_fd, name, owner_uid=os.geteuid())
    with pytest.raises(NotFound):
        safefs.open_regular_file(ws_fd, "absent", owner_uid=None)


def test_unlink_at(ws: Path, ws_fd: int, make_file: MakeFile) -> None:
    make_file(ws / "f", b"x")
    assert safefs.unlink_at(ws_fd, "f") is True
    assert safefs.unlink_at(ws_fd, "f") is False
    assert not (ws / "f").exists()


def test_remove_empty_dirs_stops_at_content_and_root(
    ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    (ws / "a" / "b" / "c").mkdir(parents=True)
    make_file(ws / "a" / "keep", b"k")
    assert safefs.remove_empty_dirs(ws_fd, "a/b/c") == 2
    assert sorted(os.listdir(ws / "a")) == ["keep"]
    (ws / "a" / "keep").unlink()
    assert safefs.remove_empty_dirs(ws_fd, "a") == 1
    assert ws.is_dir() and os.listdir(ws) == []


def test_write_file_atomic_replaces_whole(ws: Path, ws_fd: int, make_file: MakeFile) -> None:
    make_file(ws / "pointer", b"old")
    safefs.write_file_atomic(ws_fd, "pointer", b"new content\n", mode=0o600)
    assert (ws / "pointer").read_bytes() == b"new content\n"
    assert stat.S_IMODE((ws / "pointer").stat().st_mode) == 0o600
    assert os.listdir(ws) == ["pointer"]

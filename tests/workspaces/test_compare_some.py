"""``local.compare_some``: the watcher's dirty paths, each directory opened once, say what a
full scan says, whatever happened to the directories that held them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workspace.db.queries.workspaces import CachedFile
from workspace.errors import PermissionDenied
from workspace.store import hash_fd
from workspace.workspaces import local


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, int, local.Cache]]:
    data = tmp_path / "data"
    for directory in ("a", "a/deep", "b"):
        (data / directory).mkdir(parents=True)
        for n in range(3):
            (data / directory / f"f{n}.txt").write_text(f"{directory} {n}\n")
    root_fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    cache = {row["relpath"]: _cached(row) for row in _rows(root_fd)}
    try:
        yield data, root_fd, cache
    finally:
        os.close(root_fd)


def test_every_file_looked_at_in_place_matches_a_full_scan(
        tree: tuple[Path, int, local.Cache]) -> None:
    data, root_fd, cache = tree
    (data / "a" / "f1.txt").write_text("edited, longer than before\n")
    (data / "b" / "f2.txt").unlink()
    every = list(cache)
    assert _changes(local.compare_some(root_fd, "data", "dir", cache, every)) == \
        _changes(local.compare(root_fd, "data", "dir", cache)) == \
        ([], ["a/f1.txt"], ["b/f2.txt"])


def test_paths_whose_directory_went_away_or_became_a_file_are_deleted(
        tree: tuple[Path, int, local.Cache]) -> None:
    data, root_fd, cache = tree
    shutil.rmtree(data / "a" / "deep")
    shutil.rmtree(data / "b")
    (data / "b").write_text("a file where a directory was\n")
    state = local.compare_some(root_fd, "data", "dir", cache, [*cache, "b"])
    assert state.deleted == ["a/deep/f0.txt", "a/deep/f1.txt", "a/deep/f2.txt",
                             "b/f0.txt", "b/f1.txt", "b/f2.txt"]
    assert state.added == ["b"]
    assert _changes(state) == _changes(local.compare(root_fd, "data", "dir", cache))


def test_a_dirty_directory_is_listed_again_whole(tree: tuple[Path, int, local.Cache]) -> None:
    data, root_fd, cache = tree
    (data / "a" / "deep" / "new.txt").write_text("new\n")
    (data / "c" / "d").mkdir(parents=True)
    (data / "c" / "d" / "x.txt").write_text("x\n")
    below = {p: row for p, row in cache.items() if p.startswith("a/")}
    state = local.compare_some(root_fd, "data", "dir", below, ["a", "c"])
    assert state.added == ["a/deep/new.txt", "c/d/x.txt"]
    assert not state.deleted and not state.modified


def test_a_symlinked_directory_on_the_way_is_refused(
        tree: tuple[Path, int, local.Cache]) -> None:
    data, root_fd, cache = tree
    shutil.rmtree(data / "a")
    (data / "a").symlink_to(data / "b")
    with pytest.raises(PermissionDenied):
        local.compare_some(root_fd, "data", "dir", cache, ["a/f0.txt"])


def _rows(root_fd: int) -> list[dict[str, object]]:
    """The stat cache the daemon would have written after adding the tree."""
    on_disk = local.compare(root_fd, "data", "dir", {})
    return [local.cache_row(path, _oid(root_fd, path), st, size=st.st_size)
            for path, st in on_disk.files.items()]


def _oid(root_fd: int, path: str) -> str:
    fd = os.open(f"data/{path}", os.O_RDONLY, dir_fd=root_fd)
    try:
        return hash_fd(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


def _cached(row: dict[str, Any]) -> CachedFile:
    return CachedFile(row["relpath"], row["oid"], row["size"], row["executable"],
                      row["ino"], row["mtime_ns"], row["ctime_ns"])


def _changes(state: local.LocalState) -> tuple[list[str], list[str], list[str]]:
    return state.added, state.modified, state.deleted

"""Finding the repository around a workspace and reading HEAD as provenance."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from workspace.errors import InvalidInput, NotFound, PermissionDenied
from workspace.vcs.repo import (
    GitState,
    Repository,
    Unavailable,
    head_info,
    open_repository,
    require_repository,
    workdir_relpath,
)

from .conftest import GitRepo


def test_no_repository_means_no_provenance(tmp_path: Path) -> None:
    plain = tmp_path / "plain" / "data"
    plain.mkdir(parents=True)
    assert open_repository(plain) is None
    with pytest.raises(NotFound, match="no git repository") as caught:
        require_repository(plain)
    assert caught.value.hint


def test_found_from_a_subdirectory_a_file_or_a_path_not_made_yet(repo: GitRepo) -> None:
    data = repo.write("data/labels.csv", "a\n")
    for start in (data.parent, data, repo.root / "not" / "made" / "yet"):
        found = open_repository(start)
        assert isinstance(found, Repository)
        assert found.workdir == repo.root
        assert found.gitdir == repo.root / ".git"


def test_unborn_head_has_a_branch_but_no_commit(repo: GitRepo) -> None:
    assert head_info(repo.open()) == GitState(commit=None, branch="main", dirty=False)


def test_unborn_head_with_a_staged_file_is_dirty(repo: GitRepo) -> None:
    repo.write("train.py", "print(1)\n")
    repo.git("add", "train.py")
    assert head_info(repo.open()) == GitState(commit=None, branch="main", dirty=True)


def test_clean_branch(repo: GitRepo) -> None:
    sha = repo.commit("first", **{"train.py": "print(1)\n"})
    assert head_info(repo.open()) == GitState(commit=sha, branch="main", dirty=False)


def test_detached_head_has_no_branch(repo: GitRepo) -> None:
    first = repo.commit("first", **{"train.py": "v1\n"})
    repo.commit("second", **{"train.py": "v2\n"})
    repo.git("checkout", "-q", "--detach", first)
    assert head_info(repo.open()) == GitState(commit=first, branch=None, dirty=False)


def test_untracked_files_do_not_make_the_tree_dirty(repo: GitRepo) -> None:
    repo.commit("first", **{"train.py": "v1\n"})
    repo.write("notes.txt", "scratch\n")
    repo.write("data/big/file.bin", b"\0" * 10)
    assert head_info(repo.open()).dirty is False


@pytest.mark.parametrize("change", ["worktree", "index", "deleted"])
def test_changed_tracked_files_make_the_tree_dirty(repo: GitRepo, change: str) -> None:
    repo.commit("first", **{"train.py": "v1\n"})
    if change == "deleted":
        (repo.root / "train.py").unlink()
    else:
        repo.write("train.py", "v2\n")
    if change == "index":
        repo.git("add", "train.py")
    assert head_info(repo.open()).dirty is True


def test_a_bare_repository_has_no_dirtiness_and_no_work_tree(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("first", **{"train.py": "v1\n"})
    bare = tmp_path / "bare.git"
    repo.git("clone", "-q", "--bare", str(repo.root), str(bare))
    found = open_repository(bare)
    assert isinstance(found, Repository)
    assert head_info(found).dirty is None
    with pytest.raises(InvalidInput, match="bare"):
        workdir_relpath(found, bare)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a repository to another uid")
def test_a_repository_owned_by_another_user_is_reported_not_opened(
    repo: GitRepo, tmp_path: Path
) -> None:
    repo.commit("first", **{"train.py": "v1\n"})
    theirs = tmp_path / "theirs"
    shutil.copytree(repo.root, theirs)
    (theirs / "data").mkdir()
    for path in [theirs, *theirs.rglob("*")]:
        os.lchown(path, 65534, 65534)

    found = open_repository(theirs / "data")

    assert isinstance(found, Unavailable)
    assert found.path == theirs
    assert "owned by uid 65534" in found.reason
    assert f"safe.directory {theirs}" in found.hint
    with pytest.raises(PermissionDenied, match="owned by uid 65534"):
        require_repository(theirs)


def test_workdir_relpath_is_posix_and_relative_to_the_root(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("data/labels.csv", "a\n")
    opened = repo.open()
    assert workdir_relpath(opened, repo.root / "data" / "labels.csv") == "data/labels.csv"
    assert workdir_relpath(opened, repo.root / "data" / "new.ws") == "data/new.ws"
    assert workdir_relpath(opened, repo.root) == ""
    via_link = tmp_path / "link"
    via_link.symlink_to(repo.root)
    assert workdir_relpath(opened, via_link / "data") == "data"
    with pytest.raises(InvalidInput, match="outside the git work tree"):
        workdir_relpath(opened, tmp_path / "elsewhere")


def test_relative_paths_are_taken_from_the_current_directory(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo.root / "data").mkdir()
    monkeypatch.chdir(repo.root / "data")
    assert workdir_relpath(repo.open(), Path("labels.csv")) == "data/labels.csv"


def test_a_corrupt_head_gives_empty_provenance_not_an_error(repo: GitRepo) -> None:
    repo.commit("first", **{"train.py": "v1\n"})
    (repo.root / ".git" / "HEAD").write_text("garbage\n")
    assert head_info(repo.open()) == GitState(commit=None, branch=None, dirty=None)


def test_a_repository_git_cannot_read_is_unavailable(repo: GitRepo) -> None:
    (repo.root / ".git" / "config").write_text("[core]\n\trepositoryformatversion = 99\n")
    found = open_repository(repo.root)
    assert isinstance(found, Unavailable)
    assert "unsupported repository version" in found.reason
    assert found.hint

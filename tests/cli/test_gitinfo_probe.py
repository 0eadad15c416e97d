"""`ws add` outside git does not load libgit2; inside any git checkout it still finds it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from workspace.cli.gitinfo import may_be_in_git, provenance


def test_a_path_in_no_repository_has_no_provenance(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_DIR", raising=False)
    assert not may_be_in_git(str(tmp_path / "data" / "not-made-yet"))
    assert provenance(str(tmp_path / "data")) is None


def test_a_path_deep_in_a_checkout_or_not_made_yet_is_looked_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GIT_DIR", raising=False)
    subprocess.run(["git", "init", "-q", str(tmp_path / "repo")], check=True)
    deep = tmp_path / "repo" / "a" / "b"
    deep.mkdir(parents=True)
    assert may_be_in_git(str(deep / "data"))
    found = provenance(str(deep / "data"))
    assert found is not None and found["commit"] is None  # a repository with no commit yet


def test_git_dir_in_the_environment_is_honoured(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    assert may_be_in_git(str(tmp_path))

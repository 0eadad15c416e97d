"""Real git repositories made with the git CLI in temp dirs, isolated from the host's config."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest
from pygit2.enums import ConfigLevel

from workspace.vcs.repo import Repository, open_repository


class GitRepo:
    """A work tree driven by the git CLI, the way a user would drive it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=self.env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def write(self, relpath: str, content: str | bytes) -> Path:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    def commit(self, message: str, **files: str | bytes) -> str:
        """Write ``files`` (keyword names use ``__`` for ``/``), stage everything, commit."""
        for name, content in files.items():
            self.write(name.replace("__", "/"), content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def open(self) -> Repository:
        found = open_repository(self.root)
        assert isinstance(found, Repository)
        return found


@pytest.fixture(autouse=True)
def _isolated_git_config(tmp_path: Path) -> Iterator[None]:
    """libgit2 in this process reads no global or system config (no stray safe.directory)."""
    home = tmp_path / "gitconfig-home"
    home.mkdir()
    saved = {
        level: pygit2.settings.search_path[level]
        for level in (ConfigLevel.GLOBAL, ConfigLevel.XDG, ConfigLevel.SYSTEM)
    }
    for level in saved:
        pygit2.settings.search_path[level] = str(home)
    yield
    for level, value in saved.items():
        pygit2.settings.search_path[level] = value


@pytest.fixture
def git_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_AUTHOR_NAME": "Alice",
        "GIT_AUTHOR_EMAIL": "alice@example.org",
        "GIT_COMMITTER_NAME": "Alice",
        "GIT_COMMITTER_EMAIL": "alice@example.org",
    }


@pytest.fixture
def repo(tmp_path: Path, git_env: dict[str, str]) -> GitRepo:
    """An empty repository (unborn ``main``) at tmp_path/project."""
    root = tmp_path / "project"
    root.mkdir()
    made = GitRepo(root, git_env)
    made.git("init", "-q", "-b", "main")
    return made

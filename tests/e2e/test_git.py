"""Data versions that follow git: provenance, checkout after `git checkout`, --rev, line blame.

A real git repository made in the test, the real daemon and CLI, run as the
workspace owner (and a second user for line blame).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.blame import blamed
from tests.support.daemon import Daemon, as_user, give
from tests.support.runtime import Identity, Runtime


def _git(daemon: Daemon, who: Identity, cwd: Path, *args: str) -> str:
    env = {**daemon.env(), "GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": f"{who.name}@x",
           "GIT_COMMITTER_NAME": who.name, "GIT_COMMITTER_EMAIL": f"{who.name}@x",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          **as_user(daemon.runtime, who))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def shared_daemon(runtime: Runtime, alice: Identity) -> Iterator[Daemon]:
    """alice's single-user daemon, with its socket where other users can reach it."""
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                     socket_dir=runtime.make_dir(alice, "sock")).start()
    yield running
    running.stop()


@pytest.fixture
def repo(sqlite_daemon: Daemon, project: Path) -> Path:
    """A git project with data/ tracked as vision/cats: v1 tagged v1.0, v2 on main."""
    ws, who = sqlite_daemon.ws, sqlite_daemon.owner
    (project / "data").mkdir()
    (project / "data" / "labels.csv").write_text("a,1\n")
    (project / "code.py").write_text("print('train')\n")
    give(project, who)
    _git(sqlite_daemon, who, project, "init", "-q", "-b", "main")
    _git(sqlite_daemon, who, project, "add", "code.py")
    _git(sqlite_daemon, who, project, "commit", "-q", "-m", "code")
    ws("init", cwd=project)
    ws("add", "data", "-d", "vision/cats", "-m", "first cut", cwd=project)
    _git(sqlite_daemon, who, project, "add", "data.ws", ".gitignore")
    _git(sqlite_daemon, who, project, "commit", "-q", "-m", "data v1")
    _git(sqlite_daemon, who, project, "tag", "v1.0")
    ws("unlock", "data/labels.csv", cwd=project)
    (project / "data" / "labels.csv").write_text("a,1\nb,2\n")
    (project / "code.py").write_text("print('train v2')\n")  # uncommitted code change
    ws("commit", "data", "-m", "more labels", cwd=project)
    _git(sqlite_daemon, who, project, "commit", "-q", "-am", "data v2")
    return project


def test_each_version_records_the_code_it_was_made_with(sqlite_daemon: Daemon,
                                                        repo: Path) -> None:
    who = sqlite_daemon.owner
    v1_code = _git(sqlite_daemon, who, repo, "rev-parse", "v1.0^")
    versions = sqlite_daemon.ws_json("log", "vision/cats", cwd=repo)["versions"]
    assert versions[1]["git"] == {"commit": v1_code, "branch": "main", "dirty": False}
    assert versions[0]["git"]["dirty"] is True  # code.py was edited, not yet committed
    blame = list(blamed(sqlite_daemon.ws_json("blame", "vision/cats", cwd=repo)).values())
    assert blame[0]["git_commit"] == versions[0]["git"]["commit"]


def test_git_checkout_then_ws_checkout_round_trip(sqlite_daemon: Daemon, repo: Path) -> None:
    who, labels = sqlite_daemon.owner, repo / "data" / "labels.csv"
    _git(sqlite_daemon, who, repo, "checkout", "-q", "v1.0")
    sqlite_daemon.ws("checkout", cwd=repo)
    assert labels.read_text() == "a,1\n"
    _git(sqlite_daemon, who, repo, "checkout", "-q", "main")
    sqlite_daemon.ws("checkout", cwd=repo)
    assert labels.read_text() == "a,1\nb,2\n"
    assert _git(sqlite_daemon, who, repo, "status", "--porcelain") == ""


def test_checkout_rev_leaves_gits_working_tree_alone(sqlite_daemon: Daemon, repo: Path) -> None:
    who = sqlite_daemon.owner
    sqlite_daemon.ws("checkout", "--rev", "v1.0", cwd=repo)
    assert (repo / "data" / "labels.csv").read_text() == "a,1\n"
    assert 'version = 2' in (repo / "data.ws").read_text()
    assert _git(sqlite_daemon, who, repo, "status", "--porcelain") == ""
    status = sqlite_daemon.ws_json("status", cwd=repo)["tracked"][0]
    assert status["version"] == 1 and status["clean"]


def test_diff_between_two_revisions(sqlite_daemon: Daemon, repo: Path) -> None:
    answer = sqlite_daemon.ws_json("diff", "--rev", "v1.0..main", cwd=repo)
    (change,) = answer["changes"]
    assert change["old"] == {"dataset": "vision/cats", "version": 1}
    assert change["new"] == {"dataset": "vision/cats", "version": 2}
    assert [m["path"] for m in change["diff"]["modified"]] == ["labels.csv"]


def test_an_unknown_revision_is_a_clear_error(sqlite_daemon: Daemon, repo: Path) -> None:
    proc = sqlite_daemon.ws("checkout", "--rev", "no-such-tag", cwd=repo, check=False)
    assert proc.returncode == 3 and "no-such-tag" in proc.stderr
    assert (repo / "data" / "labels.csv").read_text() == "a,1\nb,2\n"


def test_line_blame_names_who_introduced_each_line(
        runtime: Runtime, shared_daemon: Daemon, project: Path) -> None:
    sqlite_daemon = shared_daemon
    ws, alice = sqlite_daemon.ws, sqlite_daemon.owner
    bob = runtime.user("bob")
    (project / "data").mkdir()
    (project / "data" / "rows.csv").write_text("h\nr1\nr2\n")
    give(project, alice)
    ws("init", cwd=project)
    ws("add", "data", "-d", "team/rows", "-m", "alice's rows", cwd=project)
    if runtime.as_root:
        ws("user", "add", bob.name, cwd=project)
        ws("role", "grant", bob.name, "writer", "team/*", cwd=project)
    bobs = runtime.make_dir(bob, "bob")
    bobs.chmod(0o777)  # a single-user daemon (alice's uid) links into bob's workspace
    ws("init", cwd=bobs, user=bob)
    ws("get", "team/rows", "data", cwd=bobs, user=bob)
    ws("unlock", "data/rows.csv", cwd=bobs, user=bob)
    (bobs / "data" / "rows.csv").write_text("h\nr1\nbob's row\nr2\n")
    ws("commit", "data", "-m", "bob adds a row", cwd=bobs, user=bob)
    ws("checkout", "data", "--version", "2", cwd=project)
    ws("unlock", "data/rows.csv", cwd=project)
    (project / "data" / "rows.csv").write_text("h\nr1\nbob's row\nr2\nr3\n")
    ws("commit", "data", "-m", "alice appends", cwd=project)

    answer = sqlite_daemon.ws_json("blame", "--lines", "data/rows.csv", cwd=project)
    authors = {n: info["author"] for n, info in answer["versions"].items()}
    lines = [(text, authors[str(version)])
             for text, version in zip(answer["lines"], answer["line_versions"], strict=True)]
    assert lines == [("h", alice.name), ("r1", alice.name), ("bob's row", bob.name),
                     ("r2", alice.name), ("r3", alice.name)]
    again = sqlite_daemon.ws_json("blame", "--lines", "team/rows@2", "rows.csv", cwd=project)
    assert again["line_versions"] == [1, 1, 2, 1]


def test_line_blame_refuses_binary_files(sqlite_daemon: Daemon, project: Path) -> None:
    (project / "data").mkdir()
    (project / "data" / "model.bin").write_bytes(b"\x00\x01\x02binary")
    give(project, sqlite_daemon.owner)
    sqlite_daemon.ws("init", cwd=project)
    sqlite_daemon.ws("add", "data", "-d", "team/model", "-m", "weights", cwd=project)
    proc = sqlite_daemon.ws("blame", "--lines", "data/model.bin", cwd=project, check=False)
    assert proc.returncode == 2 and "binary" in proc.stderr


def test_a_fresh_clone_gets_its_data_with_ws_checkout(sqlite_daemon: Daemon, repo: Path,
                                                      runtime: Runtime) -> None:
    who = sqlite_daemon.owner
    clone = runtime.make_dir(who, "clone")
    _git(sqlite_daemon, who, clone, "clone", "-q", str(repo), "project")
    copy = clone / "project"
    assert not (copy / "data").exists()  # git has the pointer, not the data
    sqlite_daemon.ws("init", cwd=copy)
    sqlite_daemon.ws("checkout", cwd=copy)
    assert (copy / "data" / "labels.csv").read_text() == "a,1\nb,2\n"
    assert (copy / "data" / "labels.csv").stat().st_ino == (
        repo / "data" / "labels.csv").stat().st_ino
    assert _git(sqlite_daemon, who, copy, "status", "--porcelain") == ""

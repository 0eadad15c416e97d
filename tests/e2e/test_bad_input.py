"""Bad input gets a clear error, the documented exit code, and changes nothing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, as_user, give, tree_of

USAGE, NOT_FOUND, CONFLICT, UNREACHABLE = 2, 3, 5, 6


@pytest.fixture
def cats(sqlite_daemon: Daemon, project: Path) -> Path:
    """A workspace with data/ tracked as vision/cats version 1."""
    (project / "data").mkdir()
    (project / "data" / "labels.csv").write_text("a,1\n")
    give(project, sqlite_daemon.owner)
    sqlite_daemon.ws("init", cwd=project)
    sqlite_daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
    return project


def _fails(daemon: Daemon, code: int, *args: str, cwd: Path) -> str:
    proc = daemon.ws(*args, cwd=cwd, check=False)
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "hint:" in proc.stderr
    return proc.stderr


@pytest.mark.parametrize("name", ["/vision/cats", "../cats", "Vision/cats", "vision//cats",
                                  "vision/cats/", "a/./b", ""])
def test_bad_dataset_names_are_refused(sqlite_daemon: Daemon, cats: Path, name: str) -> None:
    (cats / "more").mkdir()
    give(cats / "more", sqlite_daemon.owner)
    before = tree_of(cats)
    _fails(sqlite_daemon, USAGE, "add", "more", "-d", name, "-m", "x", cwd=cats)
    assert tree_of(cats) == before


def test_paths_outside_the_workspace_are_refused(sqlite_daemon: Daemon, cats: Path,
                                                 tmp_path: Path) -> None:
    err = _fails(sqlite_daemon, NOT_FOUND, "add", "/etc", "-d", "sys/etc", "-m", "x", cwd=cats)
    assert "ws init" in err
    err = _fails(sqlite_daemon, NOT_FOUND, "add", "../", "-d", "up/one", "-m", "x", cwd=cats)
    assert sqlite_daemon.ws_json("datasets", cwd=cats)["datasets"][0]["name"] == "vision/cats"


def test_a_non_normalized_path_is_refused_by_the_daemon(sqlite_daemon: Daemon,
                                                         cats: Path) -> None:
    """The CLI always normalizes; a script talking to the socket directly gets a 400."""
    request = (
        "import httpx, json, sys\n"
        "c = httpx.Client(transport=httpx.HTTPTransport(uds=sys.argv[1]))\n"
        "r = c.post('http://ws/v1/add', json={'path': sys.argv[2], "
        "'dataset': 'a/b', 'message': 'x'})\n"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))\n")
    proc = subprocess.run([sqlite_daemon.runtime.python, "-c", request,
                           str(sqlite_daemon.socket), f"{cats}/data/../data"],
                          env=sqlite_daemon.env(), capture_output=True, text=True,
                          **as_user(sqlite_daemon.runtime, sqlite_daemon.owner))
    assert proc.returncode == 0, proc.stderr
    reply = json.loads(proc.stdout)
    assert reply["status"] == 400
    assert reply["body"]["error"]["code"] == "invalid_input"


def test_symlinks_and_special_files_are_listed_and_refused_unless_skipped(
        sqlite_daemon: Daemon, cats: Path) -> None:
    odd = cats / "odd"
    odd.mkdir()
    (odd / "real.txt").write_text("real")
    (odd / "passwd").symlink_to("/etc/passwd")
    os.mkfifo(odd / "pipe")
    give(cats, sqlite_daemon.owner)
    before = tree_of(cats)
    err = _fails(sqlite_daemon, USAGE, "add", "odd", "-d", "odd/one", "-m", "x", cwd=cats)
    assert "passwd" in err and "pipe" in err and "--skip-symlinks" in err
    assert tree_of(cats) == before and not (cats / "odd.ws").exists()

    done = sqlite_daemon.ws_json("add", "odd", "-d", "odd/one", "-m", "x", "--skip-symlinks",
                                 cwd=cats)
    assert done["summary"]["files"] == 1
    assert (odd / "passwd").is_symlink() and os.readlink(odd / "passwd") == "/etc/passwd"


@pytest.mark.parametrize("ref", ["nope/nothing", "vision/cats@9", "vision/cats@no-such-tag"])
def test_unknown_datasets_versions_and_tags(sqlite_daemon: Daemon, cats: Path,
                                            ref: str) -> None:
    err = _fails(sqlite_daemon, NOT_FOUND, "get", ref, "elsewhere", cwd=cats)
    assert "ws " in err  # the hint names a command to find what exists
    assert not (cats / "elsewhere").exists()


def test_checkout_refuses_to_overwrite_local_changes_unless_forced(
        sqlite_daemon: Daemon, cats: Path) -> None:
    ws = sqlite_daemon.ws
    ws("unlock", "data/labels.csv", cwd=cats)
    (cats / "data" / "labels.csv").write_text("a,1\nb,2\n")
    ws("commit", "data", "-m", "v2", cwd=cats)
    ws("checkout", "data", "--version", "1", cwd=cats)
    ws("unlock", "data/labels.csv", cwd=cats)
    (cats / "data" / "labels.csv").write_text("precious\n")
    err = _fails(sqlite_daemon, CONFLICT, "checkout", "data", "--version", "2", cwd=cats)
    assert "labels.csv" in err and "--force" in err
    assert (cats / "data" / "labels.csv").read_text() == "precious\n"
    ws("checkout", "data", "--version", "2", "--force", cwd=cats)
    assert (cats / "data" / "labels.csv").read_text() == "a,1\nb,2\n"


def test_a_pointer_whose_digest_disagrees_changes_nothing(sqlite_daemon: Daemon,
                                                           cats: Path) -> None:
    pointer = cats / "data.ws"
    text = pointer.read_text()
    pointer.write_text(text.replace('digest = "sha256:', 'digest = "sha256:00'))
    before = tree_of(cats / "data")
    err = _fails(sqlite_daemon, USAGE, "checkout", cwd=cats)
    assert "data" in err and "digest" in err
    assert tree_of(cats / "data") == before


def test_no_daemon_says_how_to_start_one(sqlite_daemon: Daemon, cats: Path) -> None:
    proc = sqlite_daemon.ws("status", cwd=cats, check=False,
                            env={"WORKSPACE_SOCKET": str(cats / "nothing.sock")})
    assert proc.returncode == UNREACHABLE
    assert "ws serve" in proc.stderr


def test_a_stale_socket_file_is_not_a_daemon(sqlite_daemon: Daemon, cats: Path) -> None:
    stale = cats / "stale.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(stale))
    listener.close()  # the file stays, nobody listens
    give(stale, sqlite_daemon.owner)
    proc = sqlite_daemon.ws("datasets", cwd=cats, check=False,
                            env={"WORKSPACE_SOCKET": str(stale)})
    assert proc.returncode == UNREACHABLE

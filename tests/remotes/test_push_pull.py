"""Push to a real S3 server (and a file:// remote), pull on a second daemon, same history.

Both daemons are real ``ws serve`` processes with their own WORKSPACE_HOME and
database (SQLite or PostgreSQL, the same kind for both); the S3 server is a
real HTTP endpoint on loopback.
"""

from __future__ import annotations

from pathlib import Path

from tests.remotes.conftest import DaemonFactory, make_project
from tests.support.daemon import Daemon, give, tree_of
from tests.support.databases import database
from tests.support.runtime import Identity, Runtime


def _history(daemon: Daemon, cwd: Path) -> tuple[object, object, object]:
    return (daemon.ws_json("log", "vision/cats", cwd=cwd),
            daemon.ws_json("blame", "vision/cats", cwd=cwd),
            daemon.ws_json("blame", "vision/cats@1", cwd=cwd))


def _two_versions(daemon: Daemon, project: Path) -> None:
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "first cut", cwd=project)
    daemon.ws("unlock", "data/small/000.txt", cwd=project)
    (project / "data" / "small" / "000.txt").write_text("changed\n")
    (project / "data" / "small" / "001.txt").unlink()
    daemon.ws("commit", "data", "-m", "fix row 0, drop row 1", cwd=project)
    daemon.ws("tag", "vision/cats@1", "v1.0", cwd=project)


def test_a_second_daemon_pulls_the_same_history(
        database_url: str, remote_url: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    first = start_daemon(database_url)
    project = make_project(runtime, alice, first)
    _two_versions(first, project)
    first.ws("remote", "add", "origin", remote_url, cwd=project)

    pushed = first.ws_json("push", "vision/cats", cwd=project)
    assert pushed["datasets"][0]["pushed"] == [1, 2]
    assert pushed["datasets"][0]["tags"] == ["v1.0"]
    assert pushed["objects"] == 22  # 20 small files, 1 large, and the changed one of v2
    again = first.ws_json("push", "vision/cats", cwd=project)
    assert (again["objects"], again["datasets"][0]["pushed"]) == (0, [])

    kind = database_url.split(":")[0].split("+")[0]
    with database(kind, runtime.make_dir(alice, "db2")) as second_url:
        second = start_daemon(second_url)
        elsewhere = runtime.make_dir(alice, "elsewhere")
        give(elsewhere, alice)
        second.ws("init", cwd=elsewhere)
        second.ws("remote", "add", "origin", remote_url, cwd=elsewhere)
        pulled = second.ws_json("pull", "vision/cats", cwd=elsewhere)
        assert (pulled["pulled"], pulled["tags"]) == ([1, 2], ["v1.0"])
        assert _history(second, elsewhere) == _history(first, project)

        second.ws("get", "vision/cats", "data", cwd=elsewhere)
        assert tree_of(elsewhere / "data") == tree_of(project / "data")
        second.ws("get", "vision/cats@v1.0", "old", cwd=elsewhere)
        assert (elsewhere / "old" / "small" / "001.txt").read_text() == "row 1\n" * 2

        nothing = second.ws_json("pull", "vision/cats", cwd=elsewhere)
        assert (nothing["pulled"], nothing["objects"]) == ([], 0)
        events = second.ws_json("audit", "--dataset", "vision/cats", cwd=elsewhere)["events"]
        pulls = [e for e in events if e["action"] == "remote:dataset:pull"]
        assert pulls and pulls[0]["actor"] == alice.name
        second.stop()


def test_push_up_to_a_version_then_the_rest(
        remote_url: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    daemon = start_daemon()
    project = make_project(runtime, alice, daemon, small=3, large=0)
    _two_versions(daemon, project)
    daemon.ws("remote", "add", "origin", remote_url, cwd=project)
    first = daemon.ws_json("push", "vision/cats@1", cwd=project)
    assert first["datasets"][0]["pushed"] == [1]
    status = daemon.ws_json("remote", "status", "vision/cats", cwd=project)["datasets"][0]
    assert status["versions"] == {"both": [1], "only_local": [2], "only_remote": []}
    assert status["objects"]["only_local"] == 1
    rest = daemon.ws_json("push", "vision/cats", cwd=project)
    assert rest["datasets"][0]["pushed"] == [2]
    status = daemon.ws_json("remote", "status", cwd=project)["datasets"][0]
    assert status["versions"]["only_local"] == [] and not status["diverged"]
    assert status["objects"]["only_local"] == 0

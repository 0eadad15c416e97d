"""How a pull meets local versions (fast-forward only), and fetching on demand.

Rules (docs/remotes.md): absent here -> created; behind -> the missing
versions are appended with their numbers; equal or ahead -> nothing; the
highest shared version differs -> diverged: refused, nothing changed.
"""

from __future__ import annotations

from pathlib import Path

from tests.remotes.conftest import DaemonFactory, add_and_push, make_project
from tests.support.daemon import Daemon, give, tree_of
from tests.support.runtime import Identity, Runtime

CONFLICT = 5


def _commit_change(daemon: Daemon, project: Path, text: str) -> None:
    daemon.ws("unlock", "data/small/000.txt", cwd=project)
    (project / "data" / "small" / "000.txt").write_text(text)
    daemon.ws("commit", "data", "-m", text, cwd=project)


def test_behind_pulls_forward_and_diverged_is_refused(
        remote_url: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    first = start_daemon()
    project = make_project(runtime, alice, first, small=3, large=0)
    first.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
    _commit_change(first, project, "first's v2\n")
    first.ws("remote", "add", "origin", remote_url, cwd=project)
    first.ws("push", "vision/cats", cwd=project)

    second = start_daemon()
    place = runtime.make_dir(alice, "elsewhere")
    give(place, alice)
    second.ws("init", cwd=place)
    second.ws("remote", "add", "origin", remote_url, cwd=place)
    assert second.ws_json("pull", "vision/cats@1", cwd=place)["pulled"] == [1]
    assert second.ws_json("pull", "vision/cats", cwd=place)["pulled"] == [2]  # behind: forward

    _commit_change(first, project, "first's v3\n")
    first.ws("push", "vision/cats", cwd=project)
    second.ws("get", "vision/cats", "data", cwd=place)
    _commit_change(second, place, "second's own v3\n")
    before = second.ws_json("log", "vision/cats", cwd=place)

    refused = second.ws("pull", "vision/cats", cwd=place, check=False)
    assert refused.returncode == CONFLICT and "diverged" in refused.stderr
    assert second.ws_json("log", "vision/cats", cwd=place) == before
    pushed = second.ws("push", "vision/cats", cwd=place, check=False)
    assert pushed.returncode == CONFLICT and "diverged" in pushed.stderr
    status = second.ws_json("remote", "status", "vision/cats", cwd=place)["datasets"][0]
    assert status["diverged"] and status["versions"]["both"] == [1, 2, 3]


def test_a_checkout_fetches_missing_objects_from_the_default_remote(
        remote_url: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    daemon = start_daemon()
    project = make_project(runtime, alice, daemon, small=4, large=1)
    add_and_push(daemon, project, remote_url, default=True)
    files = daemon.ws_json("ls", "vision/cats", cwd=project)["files"]
    lost = [f["oid"] for f in files if f["path"] in ("big0.bin", "small/002.txt")]
    for oid in lost:  # as if evicted: the store no longer has them, nothing links them
        (daemon.store / "objects" / oid[:2] / oid[2:]).unlink()

    daemon.ws("get", "vision/cats", "again", cwd=project)
    assert tree_of(project / "again") == tree_of(project / "data")
    for oid in lost:
        assert (daemon.store / "objects" / oid[:2] / oid[2:]).exists()
    events = daemon.ws_json("audit", "--user", alice.name, cwd=project)["events"]
    fetched = [e for e in events if e["action"] == "remote:object:fetch"]
    assert fetched and fetched[0]["detail"]["objects"] == 2

"""`ws rm`: one version or a whole dataset; history stays, the name can start again."""

from __future__ import annotations

from pathlib import Path

from tests.gc.helpers import three_versions, write
from tests.support.daemon import Daemon, give


def test_rm_of_one_version_then_the_dataset_and_starting_it_again(
        sqlite_daemon: Daemon, project: Path) -> None:
    daemon = sqlite_daemon
    three_versions(daemon, project)
    daemon.ws("tag", "vision/cats@1", "v1.0", cwd=project)
    one = daemon.ws_json("rm", "vision/cats@2", cwd=project)
    assert [p["version"] for p in one["pruned"]] == [2] and not one["removed"]
    assert daemon.ws("diff", "vision/cats@1", "vision/cats@2", cwd=project,
                     check=False).returncode == 3

    held = daemon.ws_json("rm", "vision/cats", cwd=project)
    assert held["pruned"] == [] and not held["removed"]
    assert {k["version"]: sorted(k) for k in held["kept"]} == {
        1: ["tags", "version"], 3: ["version", "workspaces"]}
    assert daemon.ws_json("rm", "vision/cats", "--force", "--keep-tagged",
                          cwd=project)["pruned"][0]["version"] == 3
    gone = daemon.ws_json("rm", "vision/cats", "--force", cwd=project)
    assert gone["removed"] and [p["version"] for p in gone["pruned"]] == [1]
    assert daemon.ws_json("datasets", cwd=project)["datasets"] == []
    refused = daemon.ws("ls", "vision/cats", cwd=project, check=False)
    assert refused.returncode == 3 and "was removed by" in refused.stderr

    write(project / "fresh" / "x.txt", b"again\n")
    give(project, daemon.owner)
    again = daemon.ws_json("add", "fresh", "-d", "vision/cats", "-m", "again", cwd=project)
    assert again["version"]["number"] == 4
    numbers = [v["number"] for v in daemon.ws_json("log", "vision/cats", cwd=project)["versions"]]
    assert numbers == [4, 3, 2, 1]
    actions = [e["action"] for e in daemon.ws_json("audit", "--dataset", "vision/cats",
                                                   cwd=project)["events"]]
    assert "dataset:name:remove" in actions


def test_a_commit_on_the_newest_kept_version_after_the_newest_was_pruned(
        sqlite_daemon: Daemon, project: Path) -> None:
    daemon = sqlite_daemon
    three_versions(daemon, project)
    daemon.ws("checkout", "data", "--version", "2", cwd=project)
    daemon.ws("rm", "vision/cats@3", cwd=project)
    write(project / "data" / "new.txt", b"on top of 2\n")
    give(project, daemon.owner)
    done = daemon.ws_json("commit", "data", "-m", "after the prune", cwd=project)
    assert done["version"]["number"] == 4
    files = {f["path"] for f in daemon.ws_json("ls", "vision/cats", cwd=project)["files"]}
    assert files == {"big.bin", "same.txt", "new.txt"}

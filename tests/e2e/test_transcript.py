"""The issue's transcript, end to end: real daemon, real CLI, real files, both databases."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.blame import blamed
from tests.support.daemon import Daemon, give


def _make_data(project: Path) -> Path:
    data = project / "data"
    (data / "images").mkdir(parents=True)
    (data / "labels.csv").write_text("name,label\ncat1,1\n")
    (data / "images" / "a.bin").write_bytes(os.urandom(300_000))
    (data / "images" / "b.bin").write_bytes(b"same bytes")
    (data / "images" / "c.bin").write_bytes(b"same bytes")
    return data


def test_transcript(daemon: Daemon, project: Path) -> None:
    ws = daemon.ws
    ws_json = daemon.ws_json
    data = _make_data(project)
    give(project, daemon.owner)
    ws("init", cwd=project)

    added = ws_json("add", "data/", "-d", "vision/cats", "-m", "first", cwd=project)
    assert added["version"]["number"] == 1
    assert added["summary"]["files"] == 4
    assert added["summary"]["deduplicated"] == 1  # b.bin and c.bin share one object
    assert (project / "data.ws").read_text().count('dataset = "vision/cats"') == 1
    assert "/data" in (project / ".gitignore").read_text().splitlines()
    labels = data / "labels.csv"
    assert labels.stat().st_nlink >= 2 and not labels.stat().st_mode & 0o222

    status = ws_json("status", cwd=project)
    assert [t["clean"] for t in status["tracked"]] == [True]

    ws("unlock", "data/labels.csv", cwd=project)
    with labels.open("a") as handle:  # runs as root or as alice: the copy is alice's anyway
        handle.write("x,1\n")
    status = ws_json("status", cwd=project)
    assert status["tracked"][0]["modified"] == ["labels.csv"]
    assert "modified" in ws("status", cwd=project).stdout

    committed = ws_json("commit", "data/", "-m", "more labels", cwd=project)
    assert committed["version"]["number"] == 2
    assert 'version = 2' in (project / "data.ws").read_text()
    assert ws_json("status", cwd=project)["tracked"][0]["clean"]

    ws("checkout", "data/", "--version", "1", cwd=project)
    assert labels.read_text() == "name,label\ncat1,1\n"
    assert 'version = 1' in (project / "data.ws").read_text()

    got = ws_json("get", "vision/cats@2", "other/", cwd=project)
    assert got["tracked"]["path"] == "other"
    assert (project / "other" / "labels.csv").read_text().endswith("x,1\n")
    assert (project / "other.ws").exists()
    same = (project / "other" / "images" / "a.bin").stat()
    assert same.st_ino == (data / "images" / "a.bin").stat().st_ino  # one object, two links

    names = [d["name"] for d in ws_json("datasets", cwd=project)["datasets"]]
    assert names == ["vision/cats"]
    listing = ws_json("ls", "vision/cats@1", cwd=project)
    assert [f["path"] for f in listing["files"]] == [
        "images/a.bin", "images/b.bin", "images/c.bin", "labels.csv"]
    ws("tag", "vision/cats@1", "v1.0", cwd=project)
    assert ws_json("ls", "vision/cats@v1.0", cwd=project)["version"] == 1

    log = ws_json("log", "vision/cats", cwd=project)
    assert [v["number"] for v in log["versions"]] == [2, 1]
    assert log["versions"][1]["tags"] == ["v1.0"]
    path_log = ws_json("log", "data/labels.csv", cwd=project)
    assert [(c["version"], c["change"]) for c in path_log["changes"]] == [
        (2, "modified"), (1, "added")]

    diff = ws_json("diff", "vision/cats@1", "vision/cats@2", cwd=project)
    assert [m["path"] for m in diff["modified"]] == ["labels.csv"]
    assert diff["added"] == [] and diff["deleted"] == []

    blame = blamed(ws_json("blame", "vision/cats", cwd=project))
    assert blame["labels.csv"]["version"] == 2
    assert blame["labels.csv"]["message"] == "more labels"
    assert blame["images/a.bin"]["version"] == 1
    assert blame["images/a.bin"]["author"] == daemon.owner.name

    audit = ws_json("audit", "--dataset", "vision/cats", cwd=project)["events"]
    actions = [e["action"] for e in audit]
    assert actions[:2] == ["dataset:tag:create", "workspace:path:track"]  # newest first
    assert actions.count("dataset:version:commit") == 2
    assert "workspace:path:checkout" in actions
    assert {e["actor"] for e in audit} == {daemon.owner.name}
    ids = [e["id"] for e in audit]
    assert ids == sorted(ids, reverse=True)

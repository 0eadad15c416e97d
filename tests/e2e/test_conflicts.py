"""Two copies of one dataset: a commit based on an old version is refused, not merged away."""

from __future__ import annotations

from pathlib import Path

from tests.support.daemon import Daemon, give


def test_commit_on_a_stale_version_is_a_conflict(daemon: Daemon, project: Path) -> None:
    ws = daemon.ws
    (project / "one" / "data").mkdir(parents=True)
    (project / "one" / "data" / "labels.csv").write_text("a\n")
    (project / "two").mkdir()
    give(project, daemon.owner)
    one, two = project / "one", project / "two"
    ws("init", cwd=one)
    ws("init", cwd=two)
    ws("add", "data", "-d", "shared/labels", "-m", "v1", cwd=one)
    ws("get", "shared/labels", "data", cwd=two)

    ws("unlock", "data/labels.csv", cwd=two)
    (two / "data" / "labels.csv").write_text("a\nfrom two\n")
    ws("commit", "data", "-m", "two's change", cwd=two)

    ws("unlock", "data/labels.csv", cwd=one)
    (one / "data" / "labels.csv").write_text("a\nfrom one\n")
    proc = ws("commit", "data", "-m", "one's change", cwd=one, check=False)
    assert proc.returncode == 5, proc.stderr
    assert "version 2" in proc.stderr and "based on version 1" in proc.stderr
    versions = daemon.ws_json("log", "shared/labels", cwd=one)["versions"]
    assert [v["message"] for v in versions] == ["two's change", "v1"]
    assert (one / "data" / "labels.csv").read_text() == "a\nfrom one\n"

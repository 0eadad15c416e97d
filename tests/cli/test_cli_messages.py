"""What people read, checked through the real CLI and a real daemon: history of tracked
paths and directories, nothing to commit, status hints and pointers, audit paths, tables."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, as_user, give


@pytest.fixture
def cats(sqlite_daemon: Daemon, project: Path) -> Path:
    """data/ tracked as vision/cats: version 1, then version 2 changing images/ only."""
    ws = sqlite_daemon.ws
    (project / "data" / "images").mkdir(parents=True)
    (project / "data" / "labels.csv").write_text("a,1\n")
    (project / "data" / "images" / "a.bin").write_bytes(b"a")
    give(project, sqlite_daemon.owner)
    ws("init", cwd=project)
    ws("add", "data", "-d", "vision/cats", "-m", "first", cwd=project)
    ws("unlock", "data/images/a.bin", cwd=project)
    (project / "data" / "images" / "a.bin").write_bytes(b"aa")
    (project / "data" / "images" / "b.bin").write_bytes(b"bbb")
    give(project / "data", sqlite_daemon.owner)
    ws("commit", "data", "-m", "more images", cwd=project)
    return project


def test_log_of_a_tracked_path_is_its_datasets_log(sqlite_daemon: Daemon, cats: Path) -> None:
    out = sqlite_daemon.ws("log", "data", cwd=cats).stdout
    lines = out.splitlines()
    assert lines[0] == "vision/cats" and "None" not in out
    assert lines[2].split()[0] == "2" and lines[3].split()[0] == "1"
    assert lines[2].endswith("more images") and lines[3].endswith("first")


def test_log_of_a_directory_inside_a_dataset(sqlite_daemon: Daemon, cats: Path) -> None:
    answer = sqlite_daemon.ws_json("log", "data/images", cwd=cats)
    assert answer["kind"] == "dir" and answer["path"] == "images"
    assert [(c["version"], c["change"], c["added"], c["modified"], c["files"], c["size"])
            for c in answer["changes"]] == [(2, "modified", 1, 1, 2, 5), (1, "added", 1, 0, 1, 1)]
    lines = sqlite_daemon.ws("log", "data/images", cwd=cats).stdout.splitlines()
    assert lines[0] == "images/ in vision/cats"
    assert "modified (1 added, 1 modified)" in lines[2] and "2 files, 5 B" in lines[2]
    assert "added (1 added)" in lines[3] and "1 file, 1 B" in lines[3]
    proc = sqlite_daemon.ws("log", "--path", "data/nothing", cwd=cats, check=False)
    assert proc.returncode == 3 and "nothing was never part of vision/cats" in proc.stderr


def test_commit_without_changes_on_an_old_version_has_nothing_to_commit(
        sqlite_daemon: Daemon, cats: Path) -> None:
    sqlite_daemon.ws("checkout", "data", "--version", "1", cwd=cats)
    proc = sqlite_daemon.ws("commit", "data/", "-m", "x", cwd=cats)
    assert proc.stdout.strip() == "nothing to commit in data (vision/cats@1)"
    answer = sqlite_daemon.ws_json("commit", "data/", "-m", "x", cwd=cats)
    assert answer["unchanged"] is True and answer["pointer"]["version"] == 1
    assert 'version = 1' in (cats / "data.ws").read_text()
    assert [v["number"] for v in sqlite_daemon.ws_json("log", "vision/cats", cwd=cats)
            ["versions"]] == [2, 1]
    (cats / "data" / "new.csv").write_text("n\n")
    give(cats / "data", sqlite_daemon.owner)
    proc = sqlite_daemon.ws("commit", "data/", "-m", "x", cwd=cats, check=False)
    assert proc.returncode == 5 and "based on version 1" in proc.stderr  # a real change: conflict


def test_status_hint_says_what_checkout_force_does_and_it_does_that(
        sqlite_daemon: Daemon, cats: Path) -> None:
    sqlite_daemon.ws("unlock", "data/labels.csv", cwd=cats)
    (cats / "data" / "labels.csv").write_text("changed\n")
    (cats / "data" / "added.csv").write_text("mine\n")
    give(cats / "data", sqlite_daemon.owner)
    out = sqlite_daemon.ws("status", cwd=cats).stdout
    assert ("`ws checkout PATH --force` puts modified and deleted files back as recorded "
            "and keeps added files") in out
    assert "drops" not in out
    sqlite_daemon.ws("checkout", "data", "--force", cwd=cats)
    assert (cats / "data" / "labels.csv").read_text() == "a,1\n"
    assert (cats / "data" / "added.csv").read_text() == "mine\n"


def test_status_says_when_the_pointer_names_another_version(
        sqlite_daemon: Daemon, cats: Path) -> None:
    latest = (cats / "data.ws").read_text()
    sqlite_daemon.ws("checkout", "data", "--version", "1", cwd=cats)
    (cats / "data.ws").write_text(latest)  # what `git checkout` of a newer commit does
    proc = sqlite_daemon.ws("status", cwd=cats)
    assert proc.stdout.splitlines() == [
        "data (vision/cats@1): clean",
        "  data.ws names vision/cats@2: run `ws checkout data` to bring the data to it",
        "(`ws checkout` brings every tracked path to the version its pointer file names)",
    ]
    [entry] = json.loads(sqlite_daemon.ws("status", "--json", cwd=cats).stdout)["tracked"]
    assert (entry["version"], entry["pointer"]) == (1, {"dataset": "vision/cats", "version": 2})
    sqlite_daemon.ws("checkout", cwd=cats)
    assert sqlite_daemon.ws("status", cwd=cats).stdout.splitlines()[-1] == "nothing to commit"


def test_audit_paths_are_shown_as_recorded(sqlite_daemon: Daemon, cats: Path) -> None:
    elsewhere = cats / "data" / "images"
    out = sqlite_daemon.ws("audit", "--action", "workspace:path:track", cwd=elsewhere).stdout
    assert f"  {cats / 'data'}  " in out.splitlines()[1] + "  "
    assert "../" not in out


def test_piped_tables_have_no_trailing_spaces(sqlite_daemon: Daemon, cats: Path) -> None:
    for args in (("log", "vision/cats"), ("blame", "vision/cats"), ("audit",),
                 ("datasets",), ("log", "data/images")):
        lines = sqlite_daemon.ws(*args, cwd=cats).stdout.splitlines()
        assert len(lines) > 1, args
        assert [line for line in lines if line != line.rstrip()] == [], args


@pytest.mark.skipif(os.geteuid() != 0, reason="needs a path the CLI's user may not resolve")
def test_a_path_that_cannot_be_resolved_is_one_clean_error(sqlite_daemon: Daemon,
                                                          cats: Path) -> None:
    """/proc/1/cwd is a link only its owner (root) may read: realpath fails with EACCES."""
    for args in (("status", "/proc/1/cwd/data"), ("add", "/proc/1/cwd/x", "-d", "a/b", "-m", "m"),
                 ("init", "/proc/1/cwd/x")):
        proc = sqlite_daemon.ws(*args, cwd=cats, check=False)
        assert proc.returncode == 4, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: cannot resolve /proc/1/cwd/"), proc.stderr
        assert "hint:" in proc.stderr


def test_a_removed_current_directory_is_one_clean_error(sqlite_daemon: Daemon,
                                                        cats: Path) -> None:
    gone = cats / "gone"
    gone.mkdir()
    give(gone, sqlite_daemon.owner)
    code = ("import os, subprocess, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
            "sys.exit(subprocess.run([sys.executable, '-m', 'workspace.cli.main', 'status'])"
            ".returncode)")
    done = subprocess.run([sqlite_daemon.runtime.python, "-c", code, str(gone)], cwd=cats,
                          env=sqlite_daemon.env(), capture_output=True, text=True, timeout=60,
                          **as_user(sqlite_daemon.runtime, sqlite_daemon.owner))
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and "current directory" in done.stderr

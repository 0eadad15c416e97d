"""The watcher inside a real daemon, seen through the real CLI."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime
from tests.watch.conftest import rewrite, write_tree


def _warm_status(daemon: Daemon, project: Path, timeout: float = 60.0) -> dict[str, Any]:
    """``ws status --json`` once the daemon's first scan of the path is done."""
    deadline = time.monotonic() + timeout
    while True:
        entry: dict[str, Any] = daemon.ws_json("status", cwd=project)["tracked"][0]
        if entry["scanned"] is False or time.monotonic() > deadline:
            return entry
        time.sleep(0.2)


def test_ws_status_answers_from_the_daemons_memory(sqlite_daemon: Daemon, project: Path) -> None:
    data = project / "data"
    write_tree(data, dirs=3, files=5)
    give(project, sqlite_daemon.owner)
    sqlite_daemon.ws("init", cwd=project)
    sqlite_daemon.ws("add", "data", "-d", "t/data", "-m", "v1", cwd=project)
    assert _warm_status(sqlite_daemon, project)["scanned"] is False

    rewrite(data / "d1" / "f2.txt", "edited\n")
    (data / "d2" / "f0.txt").unlink()
    give(project, sqlite_daemon.owner)
    entry = sqlite_daemon.ws_json("status", cwd=project)["tracked"][0]
    assert entry["scanned"] is False and entry["watched"] is True
    assert entry["modified"] == ["d1/f2.txt"] and entry["deleted"] == ["d2/f0.txt"]
    text = sqlite_daemon.ws("status", cwd=project).stdout
    assert "modified: data/d1/f2.txt" in " ".join(text.split()) and "not watched" not in text


def test_ws_status_says_when_a_tracked_path_is_too_big_to_watch(
        runtime: Runtime, alice: Identity, project: Path) -> None:
    home = runtime.make_dir(alice, "home")
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_WATCH_MAX_WATCHES": "4"}).start()
    try:
        write_tree(project / "data", dirs=5, files=1)
        give(project, alice)
        daemon.ws("init", cwd=project)
        daemon.ws("add", "data", "-d", "t/data", "-m", "v1", cwd=project)
        rewrite(project / "data" / "d4" / "f0.txt", "edited\n")
        give(project, alice)
        text = daemon.ws("status", cwd=project).stdout
    finally:
        daemon.stop()
    assert "data is not watched, so status scans it: it has 6 directories" in text
    assert "modified: data/d4/f0.txt" in " ".join(text.split())

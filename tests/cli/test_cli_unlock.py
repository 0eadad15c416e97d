"""`ws unlock` swaps store hardlinks for private copies, on a real filesystem."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.cli import answers as a
from tests.cli.cli_harness import FakeDaemon


@pytest.fixture
def linked(tmp_path: Path, fake: FakeDaemon) -> Path:
    """A workspace whose data/ holds hardlinks to read-only 'store objects'."""
    store, root = tmp_path / "store", tmp_path / "project"
    store.mkdir()
    (root / "data" / "sub").mkdir(parents=True)
    for name, content, mode in (("labels", b"cat,1\n", 0o444), ("run", b"#!/bin/sh\n", 0o555)):
        (store / name).write_bytes(content)
        os.chmod(store / name, mode)
    os.link(store / "labels", root / "data" / "labels.csv")
    os.link(store / "run", root / "data" / "sub" / "run.sh")
    (root / "data" / "mine.txt").write_text("already private\n")
    (root / "data" / "alias").symlink_to(store / "labels")
    fake.reply("GET", "/v1/workspaces/locate",
               a.locate(root, target=a.tracked(root), relpath="labels.csv"))
    fake.reply("GET", "/v1/health", a.health())
    return root


def test_unlock_makes_private_writable_copies_and_leaves_the_store_alone(
    ws: Any, linked: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    before = os.stat(store / "labels")
    run = ws("unlock", "data", cwd=linked)
    assert run.code == 0, run.err
    assert run.out.strip() == "unlocked 2 files; already unlocked: 1"
    assert "skipped symlink data/alias" in run.err

    copy = os.stat(linked / "data" / "labels.csv")
    assert copy.st_nlink == 1
    assert copy.st_ino != before.st_ino
    assert stat.S_IMODE(copy.st_mode) == 0o644
    assert copy.st_mtime_ns == before.st_mtime_ns
    assert (linked / "data" / "labels.csv").read_bytes() == b"cat,1\n"
    assert stat.S_IMODE(os.stat(linked / "data" / "sub" / "run.sh").st_mode) == 0o755

    after = os.stat(store / "labels")
    assert (after.st_ino, after.st_nlink, stat.S_IMODE(after.st_mode)) == (before.st_ino, 1, 0o444)
    assert (store / "labels").read_bytes() == b"cat,1\n"
    assert os.readlink(linked / "data" / "alias") == str(store / "labels")
    assert sorted(p.name for p in (linked / "data").iterdir()) == [
        "alias",
        "labels.csv",
        "mine.txt",
        "sub",
    ]


def test_unlock_a_single_file_with_json(ws: Any, linked: Path) -> None:
    run = ws("unlock", "data/labels.csv", "--json", cwd=linked)
    assert run.code == 0, run.err
    assert json.loads(run.out) == {
        "unlocked": [str(linked / "data" / "labels.csv")],
        "already_unlocked": [],
        "skipped_symlinks": [],
        "locked": None,
    }
    assert os.stat(linked / "data" / "sub" / "run.sh").st_nlink == 2


def test_unlock_outside_a_tracked_path_is_refused(ws: Any, fake: FakeDaemon, linked: Path) -> None:
    fake.reply("GET", "/v1/workspaces/locate", a.locate(linked))
    run = ws("unlock", "data/labels.csv", cwd=linked)
    assert run.code == 2
    assert "error: data/labels.csv is not inside a tracked path" in run.err
    assert "`ws status`" in run.err
    assert os.stat(linked / "data" / "labels.csv").st_nlink == 2

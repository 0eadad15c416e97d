"""``ws status`` answers from the watcher's memory, and always says what a full scan would."""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import shutil
import threading
from pathlib import Path

import pytest

from tests.watch.conftest import Service, changes, reader_held, rewrite, write_tree
from workspace.errors import NotFound


@pytest.mark.parametrize("service", ["sqlite", "postgresql"], indirect=True)
def test_changes_made_after_the_watcher_is_warm_are_reported_without_a_scan(
        service: Service) -> None:
    data, watcher = service.watched_tree(dirs=5, files=20)
    scans = watcher.full_scans
    assert changes(service.status()) == [
        {"path": "data", "clean": True, "added": [], "modified": [], "deleted": []}]

    rewrite(data / "d0" / "f0.txt", "edited\n")
    (data / "d1" / "new.txt").write_text("new\n")
    (data / "d2" / "f3.txt").unlink()
    (data / "newdir" / "deeper").mkdir(parents=True)
    (data / "newdir" / "deeper" / "a.txt").write_text("a\n")
    (data / "d3").rename(data / "d3-moved")
    shutil.rmtree(data / "d4")
    (entry,) = service.status()  # at once: events still queued must be taken into account

    assert entry["scanned"] is False and entry["watched"] is True
    assert watcher.full_scans == scans
    assert entry["modified"] == ["d0/f0.txt"]
    assert "d1/new.txt" in entry["added"] and "newdir/deeper/a.txt" in entry["added"]
    assert "d2/f3.txt" in entry["deleted"] and "d4/f7.txt" in entry["deleted"]
    assert "d3/f1.txt" in entry["deleted"] and "d3-moved/f1.txt" in entry["added"]
    assert changes([entry]) == changes(service.scanned_status())
    assert changes(service.status()) == changes(service.scanned_status())  # settled, not lost


def test_random_edits_always_match_a_full_scan(service: Service) -> None:
    data, watcher = service.watched_tree(dirs=4, files=10)
    scans = watcher.full_scans
    rng = random.Random(5)
    for step in range(120):
        _random_edit(rng, data, step)
        if step % 3 == 0:
            (entry,) = service.status()
            assert entry["scanned"] is False, step
            assert changes([entry]) == changes(service.scanned_status()), step
    assert watcher.full_scans == scans


MOVES_READ_LATE = {
    "into a new directory": [("mkdir", "new"), ("move", "d1", "new/moved")],
    "into a moved directory": [("move", "d0", "moved"), ("move", "d1", "moved/inner")],
}


@pytest.mark.parametrize("moves", MOVES_READ_LATE.values(), ids=MOVES_READ_LATE)
def test_a_directory_moved_before_its_events_are_read_is_still_watched(
        service: Service, moves: list[tuple[str, ...]]) -> None:
    """Its new parent was watched only after the move: no ``IN_MOVED_TO`` will name it."""
    data = service.root / "data"
    write_tree(data, dirs=2, files=2)
    (data / "d1" / "deep").mkdir()
    service.add("data", "t/data")
    watcher = service.watch()
    with reader_held(watcher):
        for op, *paths in moves:
            if op == "mkdir":
                (data / paths[0]).mkdir()
            else:
                (data / paths[0]).rename(data / paths[1])
    assert changes(service.status()) == changes(service.scanned_status())

    moved = data / moves[-1][2]
    (moved / "later.txt").write_text("later\n")
    (moved / "deep" / "later.txt").write_text("later\n")
    (entry,) = service.status()
    assert entry["scanned"] is False
    assert changes([entry]) == changes(service.scanned_status())
    assert {f"{moves[-1][2]}/later.txt", f"{moves[-1][2]}/deep/later.txt"} <= set(entry["added"])


def test_a_new_directory_given_a_deleted_ones_inode_number_is_still_watched(
        service: Service) -> None:
    """The reader sees the new directory (in a new parent) before the deletion."""
    data, watcher = service.watched_tree(dirs=2, files=2)
    with reader_held(watcher):
        (data / "new").mkdir()
        number = (data / "d1").stat().st_ino
        shutil.rmtree(data / "d1")
        reused = _dir_with_inode_number(data / "new", number)
    if reused is None:
        pytest.skip("this filesystem did not reuse the inode number")
    assert changes(service.status()) == changes(service.scanned_status())

    (reused / "later.txt").write_text("later\n")
    (entry,) = service.status()
    assert entry["scanned"] is False
    assert changes([entry]) == changes(service.scanned_status())
    assert f"new/{reused.name}/later.txt" in entry["added"]


def _dir_with_inode_number(parent: Path, number: int, tries: int = 64) -> Path | None:
    for n in range(tries):
        (parent / f"k{n}").mkdir()
        if (parent / f"k{n}").stat().st_ino == number:
            return parent / f"k{n}"
    return None


@pytest.mark.parametrize("seed", [1, 18, 24])
def test_random_edits_read_late_match_a_full_scan(service: Service, seed: int) -> None:
    """As on a busy machine: the reader gets to a batch of edits only after all of them."""
    data, watcher = service.watched_tree(dirs=4, files=3)
    scans = watcher.full_scans
    rng, steps = random.Random(seed), itertools.count()
    for batch in range(25):
        late, edits = rng.random() < 0.6, rng.randint(1, 8)
        with reader_held(watcher) if late else contextlib.nullcontext():
            for _ in range(edits):
                _random_edit(rng, data, next(steps))
        (entry,) = service.status()
        assert entry["scanned"] is False, batch
        assert changes([entry]) == changes(service.scanned_status()), batch
    assert watcher.full_scans == scans


@pytest.mark.parametrize("seed", range(3))
def test_edits_mixed_with_commits_and_rescans_match_a_full_scan(service: Service,
                                                               seed: int) -> None:
    """Commits and background rescans race with edits (directories moved during a rescan)."""
    data, watcher = service.watched_tree(dirs=3, files=5)
    rng = random.Random(seed)
    for step in range(80):
        _random_edit(rng, data, step)
        roll = rng.random()
        if roll < 0.1:
            service.commit("data")
        elif roll < 0.2:
            assert watcher.wait_idle()
        if rng.random() < 0.4:
            assert changes(service.status()) == changes(service.scanned_status()), step


def test_status_asked_from_another_thread_during_edits_stays_right(service: Service) -> None:
    data, _ = service.watched_tree(dirs=3, files=5)
    stop, failures = threading.Event(), []

    def ask() -> None:
        while not stop.is_set():
            try:
                service.status()
            except NotFound:
                pass  # a file deleted between listing and hashing it: a scan's race, as ever
            except Exception as exc:
                failures.append(exc)

    asker = threading.Thread(target=ask)
    asker.start()
    rng = random.Random(11)
    try:
        for step in range(100):
            _random_edit(rng, data, step)
            if step % 10 == 0:
                assert changes(service.status()) == changes(service.scanned_status()), step
    finally:
        stop.set()
        asker.join()
    assert failures == []
    assert changes(service.status()) == changes(service.scanned_status())


def _random_edit(rng: random.Random, data: Path, step: int) -> None:
    files = sorted(p for p in data.rglob("*") if p.is_file())
    dirs = sorted(p for p in data.rglob("*") if p.is_dir())
    action = rng.choice(["edit", "create", "delete", "mkdir", "move_dir", "rmdir", "touch",
                         "chmod", "move_file"])
    if action == "edit" and files:
        rewrite(rng.choice(files), f"step {step}\n")
    elif action == "create":
        (rng.choice([data, *dirs]) / f"n{step}.txt").write_text(f"{step}\n")
    elif action == "delete" and files:
        rng.choice(files).unlink()
    elif action == "mkdir":
        made = rng.choice([data, *dirs]) / f"m{step}" / "sub"
        made.mkdir(parents=True)
        (made / "x.txt").write_text("x\n")
    elif action == "move_dir" and dirs:
        source = rng.choice(dirs)
        target = rng.choice([data, *[d for d in dirs if source not in (d, *d.parents)]])
        source.rename(target / f"mv{step}")
    elif action == "rmdir" and dirs:
        shutil.rmtree(rng.choice(dirs))
    elif action == "touch" and files:
        os.utime(rng.choice(files), ns=(1, 1))
    elif action == "chmod" and files:
        rng.choice(files).chmod(0o600)
    elif action == "move_file" and files:
        rng.choice(files).rename(rng.choice([data, *dirs]) / f"r{step}.txt")


def test_after_a_commit_status_is_clean_again_and_answers_from_memory(service: Service) -> None:
    data, watcher = service.watched_tree(dirs=2, files=5)
    rewrite(data / "d0" / "f1.txt", "v2\n")
    (data / "d1" / "more.txt").write_text("more\n")
    assert not service.status()[0]["clean"]

    service.commit("data")
    assert service.status()[0]["clean"]
    assert watcher.wait_idle()
    (entry,) = service.status()
    assert entry["clean"] and entry["version"] == 2 and entry["scanned"] is False


def test_a_write_through_a_hardlink_outside_the_workspace_is_seen(
        service: Service, tmp_path: Path) -> None:
    service.ctx.mode, service.ctx.link_mode = "service", "copy"  # files stay the user's own
    data = service.root / "data"
    write_tree(data, dirs=1, files=3)
    service.add("data", "t/data")
    outside = tmp_path / "elsewhere.txt"
    os.link(data / "d0" / "f1.txt", outside)  # inotify reports writes to *this* name's parent
    service.watch()

    with outside.open("a") as handle:
        handle.write("appended through the other link\n")
    (entry,) = service.status()
    assert entry["scanned"] is False
    assert entry["modified"] == ["d0/f1.txt"]


def test_a_tracked_directory_replaced_by_another_is_scanned_again(service: Service) -> None:
    data, _ = service.watched_tree(dirs=2, files=3)
    shutil.rmtree(data)
    write_tree(data, dirs=1, files=2)
    (entry,) = service.status()
    assert entry["scanned"] is True
    assert changes([entry]) == changes(service.scanned_status())
    assert "d1/f0.txt" in entry["deleted"]


def test_a_directory_moved_away_with_its_parent_is_not_trusted(service: Service) -> None:
    nested = service.root / "sub" / "data"
    write_tree(nested, dirs=1, files=2)
    service.add("sub/data", "t/data")
    service.watch()
    (service.root / "sub").rename(service.root / "old-sub")
    write_tree(nested, dirs=1, files=2)  # same names, no event on any watched directory
    (nested / "d0" / "f1.txt").write_text("different\n")
    (entry,) = service.status()
    assert entry["scanned"] is True
    assert entry["modified"] == ["d0/f1.txt"]
    assert changes([entry]) == changes(service.scanned_status())


def test_a_tracked_file_is_watched_through_its_directory(service: Service) -> None:
    (service.root / "model.bin").write_bytes(b"weights v1")
    (service.root / "notes.txt").write_text("not tracked\n")
    service.add("model.bin", "t/model")
    watcher = service.watch()
    scans = watcher.full_scans
    (service.root / "notes.txt").write_text("edited, but not tracked\n")
    assert service.status()[0]["clean"]
    rewrite(service.root / "model.bin", "weights v2")
    (entry,) = service.status()
    assert entry["modified"] == ["model.bin"] and entry["scanned"] is False
    assert watcher.full_scans == scans


@pytest.mark.parametrize("service", ["sqlite", "postgresql"], indirect=True)
def test_a_new_directory_named_like_another_but_for_case_holds_only_its_own_files(
        service: Service) -> None:
    """A directory created under a tracked path is listed with the rows below it; on
    SQLite, LIKE ignored ASCII case, so the rows of ``D/`` came with ``d/`` and status
    said ``D/y.txt`` was deleted."""
    data = service.root / "data"
    (data / "D").mkdir(parents=True)
    (data / "D" / "y.txt").write_text("y\n")
    service.add("data", "t/data")
    service.watch()
    (data / "d").mkdir()
    (data / "d" / "z.txt").write_text("z\n")
    (entry,) = service.status()
    assert entry["scanned"] is False
    assert entry["added"] == ["d/z.txt"] and entry["deleted"] == []
    assert changes([entry]) == changes(service.scanned_status())

"""Files with other links are watched through their inode, not stat-ed at every status.

A write through a link outside the workspace sends no event to the
workspace's directory watches. Files in copy mode are the user's own, so a
second link made outside (as a user may) makes them such files, whoever
runs the daemon (a root daemon in hardlink mode has every file so).
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.watch.conftest import Service, changes, write_tree
from workspace.watch.workspaces import WorkspaceWatcher
from workspace.workspaces import sync


def linked_tree(service: Service, outside: Path, *, dirs: int, files: int,
                max_watches: int | None = None) -> tuple[Path, WorkspaceWatcher]:
    """``data/`` added as t/data, each file also linked as ``outside/dN-fM.txt``; watched."""
    service.ctx.mode, service.ctx.link_mode = "service", "copy"
    data = service.root / "data"
    write_tree(data, dirs=dirs, files=files)
    service.add("data", "t/data")
    outside.mkdir()
    for path in sorted(data.rglob("*.txt")):
        os.link(path, outside / f"{path.parent.name}-{path.name}")
    return data, service.watch(max_watches=max_watches)


def append(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


def test_linked_files_are_watched_not_polled_and_writes_through_other_links_are_seen(
        service: Service, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    _, watcher = linked_tree(service, outside, dirs=2, files=5)
    stats = watcher.stats()
    assert stats.polled == 0
    assert stats.watches == 1 + 3 + 10  # the barrier, data/ and its 2 directories, 10 files
    scans = watcher.full_scans

    append(outside / "d1-f3.txt", "through the other link\n")
    (entry,) = service.status()
    assert entry["scanned"] is False and watcher.full_scans == scans
    assert entry["modified"] == ["d1/f3.txt"]
    assert changes(service.status()) == changes(service.scanned_status())  # not settled away


def test_a_name_given_another_inode_is_polled_until_its_inode_is_watched(
        service: Service, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    data, watcher = linked_tree(service, outside, dirs=1, files=3)
    target = data / "d0" / "f1.txt"
    replacement = tmp_path / "replacement.txt"
    replacement.write_text("0/1\n")  # the same bytes, another inode
    os.link(replacement, tmp_path / "replacement-link.txt")
    os.replace(replacement, target)  # the old inode's watch no longer speaks for this name
    (entry,) = service.status()
    assert entry["clean"] and entry["scanned"] is False

    append(outside / "d0-f1.txt", "to the inode the name left\n")
    append(tmp_path / "replacement-link.txt", "to the inode the name has now\n")
    (entry,) = service.status()
    assert entry["modified"] == ["d0/f1.txt"] and entry["scanned"] is False
    assert changes([entry]) == changes(service.scanned_status())
    assert watcher.wait_idle()


def test_a_second_name_for_a_held_inode_is_seen_through_both(
        service: Service, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    data, watcher = linked_tree(service, outside, dirs=1, files=2)
    os.link(data / "d0" / "f0.txt", data / "d0" / "twin.txt")  # one inode, two tracked names
    service.commit("data")
    assert watcher.wait_idle()
    assert watcher.stats().polled == 0

    append(outside / "d0-f0.txt", "both names change\n")
    (entry,) = service.status()
    assert entry["scanned"] is False
    assert entry["modified"] == ["d0/f0.txt", "d0/twin.txt"]


def test_file_watches_leave_part_of_the_budget_and_the_rest_is_polled(
        service: Service, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    _, watcher = linked_tree(service, outside, dirs=3, files=10, max_watches=20)
    stats = watcher.stats()
    assert stats.watches == 18  # 90% of 20: the barrier, 4 directories, 13 files
    assert stats.polled == 30 - 13

    for name in ("d0-f0.txt", "d2-f9.txt"):  # one watched, one polled (sorted order)
        append(outside / name, "changed\n")
    (entry,) = service.status()
    assert entry["scanned"] is False
    assert entry["modified"] == ["d0/f0.txt", "d2/f9.txt"]


def test_a_linked_tracked_file_is_watched_through_its_inode(
        service: Service, tmp_path: Path) -> None:
    service.ctx.mode, service.ctx.link_mode = "service", "copy"
    (service.root / "model.bin").write_bytes(b"weights v1")
    service.add("model.bin", "t/model")
    os.link(service.root / "model.bin", tmp_path / "model-link.bin")
    watcher = service.watch()
    assert watcher.stats().polled == 0

    append(tmp_path / "model-link.bin", "tuned")
    (entry,) = service.status()
    assert entry["modified"] == ["model.bin"] and entry["scanned"] is False


def test_a_held_file_deleted_everywhere_is_reported_deleted(
        service: Service, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    data, watcher = linked_tree(service, outside, dirs=1, files=3)
    (outside / "d0-f2.txt").unlink()
    (data / "d0" / "f2.txt").unlink()  # the inode is freed: the kernel drops its watch
    (entry,) = service.status()
    assert entry["deleted"] == ["d0/f2.txt"] and entry["scanned"] is False
    assert watcher.wait_idle()
    assert watcher.stats().watches == 1 + 2 + 2


def test_another_checkout_of_the_same_objects_does_not_make_status_read_the_files(
        service: Service) -> None:
    """Linking an object elsewhere moves its link count and ctime, not its bytes: the
    file watches do not hear of it (no ``IN_ATTRIB``), so the next status of the first
    path reads nothing (relatime: a read after the ctime moved would move the atime)."""
    service.ctx.link_mode = "hardlink"  # the daemon's objects are the workspace's inodes
    data = service.root / "data"
    write_tree(data, dirs=2, files=5)
    service.add("data", "t/data")
    watcher = service.watch()
    files = sorted(data.rglob("*.txt"))
    assert os.geteuid() != 0 or watcher.stats().polled == 0  # a root daemon holds them all
    before = {path: path.stat() for path in files}

    sync.get(service.ctx, service.caller, ref="t/data", path=str(service.root / "copy"))
    assert watcher.wait_idle()
    assert all(p.stat().st_ctime_ns > before[p].st_ctime_ns for p in files)

    data_entry = next(e for e in service.status() if e["path"] == "data")
    assert data_entry["clean"] and data_entry["scanned"] is False
    assert {p: p.stat().st_atime_ns for p in files} == {
        p: before[p].st_atime_ns for p in files}

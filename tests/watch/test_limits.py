"""The watcher's limits: a watch budget, and a kernel event queue that can overflow."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.watch.conftest import Service, changes, rewrite, write_tree

MAX_QUEUED = Path("/proc/sys/fs/inotify/max_queued_events")


def test_a_tracked_path_over_the_watch_budget_is_unwatched_and_status_still_right(
        service: Service) -> None:
    data = service.root / "data"
    write_tree(data, dirs=10, files=2)
    service.add("data", "t/data")
    service.watch(max_watches=6)  # one goes to the watcher itself; data needs 11

    (entry,) = service.status()
    assert entry["watched"] is False and entry["scanned"] is True
    assert "11 directories" in entry["reason"]
    rewrite(data / "d3" / "f1.txt", "edited\n")
    (entry,) = service.status()
    assert entry["modified"] == ["d3/f1.txt"] and entry["watched"] is False


def test_a_tracked_path_that_grows_past_the_budget_falls_back_to_scanning(
        service: Service) -> None:
    data = service.root / "data"
    write_tree(data, dirs=3, files=2)
    service.add("data", "t/data")
    service.watch(max_watches=10)
    assert service.status()[0]["watched"] is True

    for index in range(12):
        (data / f"new{index}").mkdir()
    (data / "new11" / "late.txt").write_text("late\n")
    (entry,) = service.status()
    assert entry["watched"] is False and "grew past" in entry["reason"]
    assert entry["added"] == ["new11/late.txt"]
    assert changes([entry]) == changes(service.scanned_status())


@pytest.mark.skipif(os.geteuid() != 0, reason="setting fs.inotify.max_queued_events needs root")
def test_a_queue_overflow_is_noticed_and_status_is_right_after_the_rescan(
        service: Service) -> None:
    data = service.root / "data"
    write_tree(data, dirs=4, files=50)
    service.add("data", "t/data")
    with _max_queued_events(16):  # applies to inotify instances made while it is set
        watcher = service.watch(wait=False)
    assert watcher.wait_idle()
    assert service.status()[0]["scanned"] is False

    files = sorted(data.rglob("*.txt"))
    rewrite(files[7], "changed during the flood\n")
    (files[8]).unlink()
    survivors = files[:8] + files[9:]
    deadline = time.monotonic() + 30
    while watcher.overflows == 0:  # flood until the queue of 16 overflows: a reader thread
        assert time.monotonic() < deadline, "the watcher never saw the queue overflow"
        for path in survivors:  # that keeps up once is not one that always keeps up
            os.utime(path)

    (entry,) = service.status()
    assert entry["modified"] == [files[7].relative_to(data).as_posix()]
    assert entry["deleted"] == [files[8].relative_to(data).as_posix()]
    assert changes([entry]) == changes(service.scanned_status())
    assert watcher.wait_idle()
    (entry,) = service.status()
    assert entry["scanned"] is False  # reconciled again: memory, and still right
    assert changes([entry]) == changes(service.scanned_status())


@contextmanager
def _max_queued_events(value: int) -> Iterator[None]:
    original = MAX_QUEUED.read_text()
    MAX_QUEUED.write_text(str(value))
    try:
        yield
    finally:
        MAX_QUEUED.write_text(original)

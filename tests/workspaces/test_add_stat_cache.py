"""What ``add``, ``commit`` and ``checkout`` record in the stat cache: each file as left.

A row lets the next status trust a file without reading it, so it must hold
the stat of exactly what is at the path once the operation is done: the
object's inode for a relinked or adopted file (taken just after, not from a
second walk of the tree), the copy's for a copy, and, for a file that was
edited or replaced between staging and relink, the stat it had when it was
read, so that the next status sees the change. The services run as root with
hardlinks here, so files the daemon owns with one link are adopted.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from tests.workspaces.conftest import Services
from workspace.db.models import TrackedPath
from workspace.db.queries import workspaces as wq
from workspace.workspaces import commit, local, sync
from workspace.workspaces.context import Reporter


def _rows(services: Services, tracked: str) -> local.Cache:
    with services.ctx.db.read() as session:
        found = session.scalars(select(TrackedPath).where(TrackedPath.path == tracked)).one()
        return wq.tracked_files(session, found.id)


def _stale_rows(services: Services, data: Path) -> list[str]:
    """The files whose row does not match their stat: the next status would hash them."""
    rows = _rows(services, data.name)
    return sorted(path for path, row in rows.items()
                  if not local.stat_matches(row, os.lstat(data / path)))


def _status(services: Services, data: Path) -> dict[str, object]:
    (entry,) = sync.status(services.ctx, services.caller, path=str(data))["tracked"]
    return dict(entry)


def test_duplicate_files_all_match_their_rows_after_add(services: Services) -> None:
    data = services.workspace("project") / "dups"
    data.mkdir()
    for name in ("a.txt", "b.txt", "c.txt", "empty1", "empty2"):
        (data / name).write_bytes(b"" if name.startswith("empty") else b"same bytes\n")
    commit.add(services.ctx, services.caller, path=str(data), dataset="stat/dups", message="v1")

    assert (data / "a.txt").stat().st_nlink == 4  # the object and three links: ctime moved
    assert _stale_rows(services, data) == []
    assert _status(services, data)["clean"]


def test_a_commit_of_a_copy_of_a_tracked_file_keeps_both_rows_true(services: Services) -> None:
    data = services.workspace("project") / "grow"
    data.mkdir()
    (data / "orig.csv").write_bytes(b"x,y\n1,2\n")
    commit.add(services.ctx, services.caller, path=str(data), dataset="stat/grow", message="v1")
    (data / "copy.csv").write_bytes(b"x,y\n1,2\n")  # relinked to orig's object: its ctime moves
    commit.commit(services.ctx, services.caller, path=str(data), message="v2")

    assert _stale_rows(services, data) == []


def test_a_copy_made_by_the_relink_is_recorded_with_its_own_stat(
        sqlite_services: Services) -> None:
    services = sqlite_services
    project = services.workspace("project")
    first = project / "first"
    first.mkdir()
    (first / "f.bin").write_bytes(b"shared bytes\n")
    commit.add(services.ctx, services.caller, path=str(first), dataset="stat/one", message="v1")
    services.ctx.store.link_count_limit = 1  # every further link of an object is a copy
    data = project / "second"
    data.mkdir()
    (data / "f.bin").write_bytes(b"shared bytes\n")  # deduplicated: relinked, here copied
    before = (data / "f.bin").stat().st_ino

    commit.add(services.ctx, services.caller, path=str(data), dataset="stat/two", message="v1")

    assert (data / "f.bin").stat().st_ino not in {before, (first / "f.bin").stat().st_ino}
    assert _stale_rows(services, data) == []  # the old code kept the user's file's stat here


def _replace(path: Path, content: bytes) -> None:
    new = path.with_name(path.name + ".new")
    new.write_bytes(content)
    os.replace(new, path)


def _once_staged(total: int, edit: Callable[[], None]) -> Reporter:
    def update(files: int, size: int) -> None:
        if files == total:  # every file staged; the batch has not committed, nothing relinked
            edit()

    return Reporter(update=update)


def test_a_file_replaced_between_staging_and_relink_is_reported_modified(
        services: Services) -> None:
    data = services.workspace("project") / "swap"
    data.mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (data / name).write_bytes(f"{name}\n".encode())
    victim = data / "b.csv"

    commit.add(services.ctx, services.caller, path=str(data), dataset="stat/swap", message="v1",
               reporter=_once_staged(3, lambda: _replace(victim, b"edited meanwhile\n")))

    assert victim.read_bytes() == b"edited meanwhile\n"
    status = _status(services, data)
    assert status["modified"] == ["b.csv"] and not status["clean"]


def test_a_file_appended_to_between_staging_and_relink_is_reported_modified(
        services: Services) -> None:
    project = services.workspace("project")
    data = project / "append"
    data.mkdir()
    for name in ("a.csv", "b.csv"):
        (data / name).write_bytes(f"{name}\n".encode())
    os.link(data / "b.csv", project / "b-elsewhere.csv")  # two links: copied, not adopted
    victim = data / "b.csv"

    def append() -> None:
        with victim.open("ab") as handle:
            handle.write(b"appended meanwhile\n")

    commit.add(services.ctx, services.caller, path=str(data), dataset="stat/append",
               message="v1", reporter=_once_staged(2, append))

    assert victim.read_bytes() == b"b.csv\nappended meanwhile\n"  # left alone: not relinked
    status = _status(services, data)
    assert status["modified"] == ["b.csv"] and not status["clean"]


def test_a_checkout_of_duplicate_files_matches_every_row(sqlite_services: Services) -> None:
    services = sqlite_services
    project = services.workspace("project")
    data = project / "source"
    data.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (data / name).write_bytes(b"same bytes\n")
    commit.add(services.ctx, services.caller, path=str(data), dataset="stat/co", message="v1")
    copy = project / "copy"

    sync.get(services.ctx, services.caller, ref="stat/co", path=str(copy))

    assert _stale_rows(services, copy) == []  # each link moved the shared inode's ctime

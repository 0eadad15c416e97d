"""Long operations hold no database transaction while they work on files (docs/design.md).

The progress hook of an operation runs in the middle of its file phase: from
there the test checks that the operation holds no connection, that a writer
in another workspace commits meanwhile, and (on SQLite) that no reader pins
the WAL. ``sync.get`` of an already tracked path used to run the whole
checkout inside its read transaction.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.workspaces.conftest import Services
from workspace.workspaces import commit, sync
from workspace.workspaces.context import Reporter

FILES = 200
Operation = Callable[[Services, Path, Reporter], Any]


def _write(directory: Path, version: str) -> None:
    directory.mkdir(exist_ok=True)
    for index in range(FILES):
        path = directory / f"f{index:03d}.txt"
        path.unlink(missing_ok=True)  # a link to an object: replace it, as `ws unlock` would
        path.write_text(f"{version} {index}\n")


def _wal_pinned(services: Services) -> bool:
    """On SQLite: does a reader pin the WAL (so it can be neither checkpointed nor reset)?

    A reader holding a snapshot older than the last commit keeps every frame
    after it in the WAL: a long get would let the WAL grow without bound.
    """
    if not services.ctx.db.is_sqlite:
        return False
    path = services.ctx.db.url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path, timeout=0)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return bool(busy)


def _writer_elsewhere(services: Services, seen: dict[str, Any]) -> None:
    """Add a dataset in another workspace, from another thread, and wait for it."""
    other = services.workspace("other")
    _write(other / "data", "other")

    def add() -> None:
        seen["added"] = commit.add(services.ctx, services.caller, path=str(other / "data"),
                                   dataset="concurrent/writer", message="meanwhile")

    writer = threading.Thread(target=add)
    writer.start()
    writer.join(timeout=120)
    seen["writer_done"] = not writer.is_alive()
    seen["wal_pinned"] = _wal_pinned(services)


def _get_tracked(services: Services, data: Path, reporter: Reporter) -> Any:
    return sync.get(services.ctx, services.caller, ref="big/one@1", path=str(data),
                    reporter=reporter)


def _get_new(services: Services, data: Path, reporter: Reporter) -> Any:
    return sync.get(services.ctx, services.caller, ref="big/one@1",
                    path=str(data.with_name("copy")), reporter=reporter)


def _checkout(services: Services, data: Path, reporter: Reporter) -> Any:
    return sync.checkout(services.ctx, services.caller, path=str(data), ref="big/one@1",
                         reporter=reporter)


def _commit(services: Services, data: Path, reporter: Reporter) -> Any:
    _write(data, "v3")
    return commit.commit(services.ctx, services.caller, path=str(data), message="v3",
                         reporter=reporter)


def _add(services: Services, data: Path, reporter: Reporter) -> Any:
    fresh = data.with_name("fresh")
    _write(fresh, "fresh")
    return commit.add(services.ctx, services.caller, path=str(fresh), dataset="big/fresh",
                      message="fresh", reporter=reporter)


@pytest.mark.parametrize("operation", [_get_tracked, _get_new, _checkout, _commit, _add])
def test_a_writer_commits_while_an_operation_works_on_files(
        services: Services, operation: Operation) -> None:
    project = services.workspace("project")
    data = project / "data"
    _write(data, "v1")
    commit.add(services.ctx, services.caller, path=str(data), dataset="big/one", message="v1")
    _write(data, "v2")
    commit.commit(services.ctx, services.caller, path=str(data), message="v2")
    seen: dict[str, Any] = {}

    def in_file_phase(files: int, size: int) -> None:
        if "held" not in seen:
            seen["held"] = services.ctx.db.engine.pool.checkedout()  # type: ignore[attr-defined]
            _writer_elsewhere(services, seen)

    result = operation(services, data, Reporter(update=in_file_phase))

    assert seen["held"] == 0  # no transaction (so no connection) open through the file work
    assert seen["writer_done"] and seen["added"].version.number == 1
    assert not seen["wal_pinned"]
    assert result.version is not None

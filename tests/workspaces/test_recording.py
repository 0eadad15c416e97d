"""The version written while the files are published (``workspaces/recording.py``).

On both databases: what ``record`` writes is seen by nobody until the caller hands
the stat-cache rows over, and then commits with them; if the file work fails
instead, nothing of it is left; an error of the writer's own reaches the caller.
And through the real service: an add in single-user mode records its version
and stat cache this way, a bigger one the old way, both the same.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.workspaces.conftest import Services
from workspace.datasets.manifest import ManifestEntry
from workspace.db.models import Dataset
from workspace.errors import Conflict
from workspace.workspaces import commit, sync
from workspace.workspaces.recording import Manifest, VersionWriter


def _datasets(services: Services) -> list[str]:
    with services.ctx.db.read() as session:
        return list(session.scalars(select(Dataset.name).order_by(Dataset.name)))


def _writer(services: Services, wrote: threading.Event, finished: list[Any]
            ) -> VersionWriter[int]:
    def record(session: Session, manifest: Manifest) -> int:
        session.add(Dataset(name="team/new", created_by=services.caller.user_id))
        session.flush()
        wrote.set()
        return len(manifest)

    def finish(session: Session, recorded: int, rows: list[dict[str, Any]]) -> None:
        finished.append((recorded, rows))

    return VersionWriter(services.ctx.db, record, finish)


def test_the_rows_commit_only_once_the_stat_cache_rows_are_handed_over(
        services: Services) -> None:
    wrote, finished = threading.Event(), []
    writer = _writer(services, wrote, finished)
    writer.start({p: ManifestEntry(p, "ab" * 32, 1, False) for p in ("a", "b")})
    assert wrote.wait(10)
    assert _datasets(services) == []  # written, not committed: the files are being published
    assert writer.commit([{"path": "a"}]) == 2
    assert finished == [(2, [{"path": "a"}])]
    assert _datasets(services) == ["team/new"]


def test_abandoned_when_the_file_work_fails_nothing_is_left(services: Services) -> None:
    wrote, finished = threading.Event(), []
    writer = _writer(services, wrote, finished)
    writer.start({})
    assert wrote.wait(10)
    writer.abandon()
    assert finished == []
    assert _datasets(services) == []
    with services.ctx.db.write() as session:  # the writer lock was given back
        session.add(Dataset(name="team/after", created_by=services.caller.user_id))
    assert _datasets(services) == ["team/after"]


def test_an_error_of_the_writer_is_raised_to_the_caller(services: Services) -> None:
    def record(session: Session, manifest: Manifest) -> int:
        raise Conflict("team/new is locked by bob")

    writer: VersionWriter[int] = VersionWriter(services.ctx.db, record,
                                               lambda session, recorded, rows: None)
    writer.start({})
    with pytest.raises(Conflict, match="locked by bob"):
        writer.commit([])


@pytest.mark.parametrize("files", [300, 700])
def test_an_add_records_the_same_version_and_stat_cache_either_way(
        sqlite_services: Services, monkeypatch: pytest.MonkeyPatch, files: int) -> None:
    """700 files with the overlap bound lowered to 500 take the old order (the version
    after the files): the same version, and a stat cache that finds the tree clean."""
    services = sqlite_services
    monkeypatch.setattr(commit, "OVERLAP_UP_TO", 500)
    root = services.workspace("ws")
    data = root / "data"
    data.mkdir()
    for i in range(files):
        (data / f"f{i:04d}").write_text(f"file {i}\n")
    done = commit.add(services.ctx, services.caller, path=str(data), dataset="team/data",
                      message="v1")
    assert done.version is not None and done.version.files == files
    assert done.summary.new_objects == files
    status = _status(services, root)
    assert status["clean"] and not status["modified"]  # every stat-cache row is right
    with services.ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == 1


def _status(services: Services, root: Path) -> dict[str, Any]:
    (entry,) = sync.status(services.ctx, services.caller, path=str(root))["tracked"]
    return dict(entry)

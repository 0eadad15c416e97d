"""Big versions and stat caches are written through the driver's executemany (``db/queries/bulk``).

What a user would notice if those rows were wrong: a checkout of the version
that does not reproduce the files (a lost executable bit, a wrong size), a
status that hashes everything again or calls clean files modified, an object
whose time is naive or not now. On both databases.
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.workspaces.conftest import Services
from workspace.db.models import StoredObject, TrackedFile, TrackedPath
from workspace.db.queries.bulk import insert_many, insert_rows
from workspace.workspaces import commit, sync

FILES = 120


def _tree(data: Path) -> dict[str, bytes]:
    written = {}
    for i in range(FILES):
        relpath = f"d{i % 7}/f{i:03d}.bin"
        (data / relpath).parent.mkdir(parents=True, exist_ok=True)
        written[relpath] = f"file {i}\n".encode() * (i + 1)
        (data / relpath).write_bytes(written[relpath])
    (data / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(data / "run.sh", 0o755)
    written["run.sh"] = b"#!/bin/sh\necho hi\n"
    return written


def test_a_big_version_reads_back_as_it_was_added(services: Services) -> None:
    project = services.workspace("project")
    started = datetime.now(UTC) - timedelta(seconds=5)
    written = _tree(project / "data")
    commit.add(services.ctx, services.caller, path=str(project / "data"), dataset="bulk/rows",
               message="many rows")

    copy = project / "copy"
    result = sync.get(services.ctx, services.caller, ref="bulk/rows", path=str(copy))
    assert result.summary.files == len(written)
    for relpath, content in written.items():
        assert (copy / relpath).read_bytes() == content
    assert os.stat(copy / "run.sh").st_mode & stat.S_IXUSR
    assert not os.stat(copy / "d0/f000.bin").st_mode & stat.S_IXUSR

    for path in (project / "data", copy):
        (entry,) = sync.status(services.ctx, services.caller, path=str(path))["tracked"]
        assert entry["clean"] and not entry["modified"] and not entry["added"]
    with services.ctx.db.read() as session:
        created = session.scalars(select(StoredObject.created_at)).all()
        tracked = session.scalars(select(TrackedPath)).all()
    assert len(created) == len(written) and len(tracked) == 2
    assert all(started <= when <= datetime.now(UTC) for when in created)


def test_only_the_tables_own_columns_can_be_named(sqlite_services: Services) -> None:
    with pytest.raises(ValueError, match="no such column"), \
            sqlite_services.ctx.db.write() as session:
        insert_many(session, StoredObject, [{"oid": "0" * 64, "size": 1, "size) --": 2}])
    with pytest.raises(ValueError, match="no such column"), \
            sqlite_services.ctx.db.write() as session:
        insert_many(session, StoredObject, [{"oid": "0" * 64, "size": 1}],
                    same={"when": datetime.now(UTC)})
    with pytest.raises(ValueError, match="no such column"), \
            sqlite_services.ctx.db.write() as session:
        insert_rows(session, StoredObject, ("oid", "size) --"), [("0" * 64, 1)])


def test_objects_already_known_keep_their_row(services: Services) -> None:
    project = services.workspace("project")
    written = _tree(project / "data")
    commit.add(services.ctx, services.caller, path=str(project / "data"), dataset="bulk/one",
               message="first")
    with services.ctx.db.read() as session:
        first = dict(session.execute(select(StoredObject.oid, StoredObject.created_at)).all())
    (project / "more").mkdir()
    for relpath, content in written.items():  # the same bytes again, and one new file
        (project / "more" / relpath.replace("/", "-")).write_bytes(content)
    (project / "more" / "new.txt").write_bytes(b"only here\n")
    commit.add(services.ctx, services.caller, path=str(project / "more"), dataset="bulk/two",
               message="second")
    with services.ctx.db.read() as session:
        after = dict(session.execute(select(StoredObject.oid, StoredObject.created_at)).all())
    assert len(after) == len(first) + 1
    assert {oid: after[oid] for oid in first} == first


def test_status_refreshes_the_stat_cache_of_files_it_re_verified(services: Services) -> None:
    project = services.workspace("project")
    written = _tree(project / "data")
    commit.add(services.ctx, services.caller, path=str(project / "data"), dataset="bulk/ctime",
               message="v1")
    for relpath in written:  # same bytes, new ctime: what another user's ACL grant does
        path = project / "data" / relpath
        os.chmod(path, stat.S_IMODE(path.lstat().st_mode))
    (entry,) = sync.status(services.ctx, services.caller, path=str(project / "data"))["tracked"]
    assert entry["clean"]
    with services.ctx.db.read() as session:
        rows = session.execute(select(TrackedFile.relpath, TrackedFile.ctime_ns)).all()
    assert {relpath: ctime for relpath, ctime in rows} == {
        relpath: (project / "data" / relpath).lstat().st_ctime_ns for relpath in written}

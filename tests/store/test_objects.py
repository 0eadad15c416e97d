"""Ingesting into the store: naming, modes, deduplication, abort and crash recovery."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from workspace.errors import InvalidInput, NotFound, PermissionDenied
from workspace.store import ObjectStore, Staged, hash_bytes

from .conftest import MakeFile
from .helpers import object_files, tmp_entries

REPO_ROOT = Path(__file__).resolve().parents[2]


def ingest(store: ObjectStore, path: Path) -> Staged:
    fd = os.open(path, os.O_RDONLY)
    try:
        with store.batch() as batch:
            return batch.ingest_copy(fd)
    finally:
        os.close(fd)


def test_object_is_named_by_its_blake3_under_a_fanout_dir_and_read_only(
    store: ObjectStore, ws: Path, make_file: MakeFile
) -> None:
    data = b"hello, store\n"
    staged = ingest(store, make_file(ws / "a.txt", data))
    oid = hash_bytes(data)
    assert staged == Staged(oid, len(data), new=True)
    path = store.root / "objects" / oid[:2] / oid[2:]
    assert object_files(store) == [path] == [store.object_path(oid)]
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert store.verify(oid)
    assert tmp_entries(store) == []


def test_same_bytes_twice_is_one_object(store: ObjectStore, ws: Path, make_file: MakeFile) -> None:
    first = ingest(store, make_file(ws / "a", b"same"))
    second = ingest(store, make_file(ws / "b", b"same"))
    assert (first.new, second.new) == (True, False)
    assert first.oid == second.oid
    assert len(object_files(store)) == 1
    assert tmp_entries(store) == []


def test_duplicates_within_one_batch_stage_once(
    store: ObjectStore, ws: Path, make_file: MakeFile
) -> None:
    paths = [make_file(ws / name, b"dup") for name in ("a", "b", "c")]
    with store.batch() as batch:
        results = []
        for path in paths:
            fd = os.open(path, os.O_RDONLY)
            results.append(batch.ingest_copy(fd))
            os.close(fd)
        assert len(tmp_entries(store)) == 1
    assert [r.new for r in results] == [True, False, False]
    assert len(object_files(store)) == 1


def test_two_open_batches_staging_the_same_bytes_publish_one_object(
    store: ObjectStore, ws: Path, make_file: MakeFile
) -> None:
    """Both see the bytes as new when staging; only the first to commit created the object."""
    fd = os.open(make_file(ws / "a", b"raced"), os.O_RDONLY)
    try:
        first, second = store.batch(), store.batch()
        staged = [first.ingest_copy(fd), second.ingest_copy(fd)]
        assert [s.new for s in staged] == [True, True]
        second.commit()
        first.commit()
    finally:
        os.close(fd)
    assert second.published == {staged[0].oid} and first.published == set()
    assert len(object_files(store)) == 1 and tmp_entries(store) == []


def test_adding_the_bytes_again_repairs_an_object_damaged_in_place(
    store: ObjectStore, ws: Path, make_file: MakeFile
) -> None:
    """An object written through a link (root, or after a chmod) is not a duplicate to trust."""
    data = b"original bytes\n"
    first = ingest(store, make_file(ws / "a", data))
    damaged = store.object_path(first.oid)
    damaged.chmod(0o644)
    with damaged.open("ab") as handle:
        handle.write(b"appended in place\n")
    assert not store.verify(first.oid)

    again = ingest(store, make_file(ws / "b", data))

    assert again == Staged(first.oid, len(data), new=True)
    assert store.verify(first.oid) and damaged.read_bytes() == data
    assert stat.S_IMODE(damaged.stat().st_mode) == 0o444
    assert tmp_entries(store) == [] and len(object_files(store)) == 1


def test_objects_appear_only_at_commit(store: ObjectStore, ws: Path, make_file: MakeFile) -> None:
    fd = os.open(make_file(ws / "a", b"later"), os.O_RDONLY)
    with store.batch() as batch:
        staged = batch.ingest_copy(fd)
        assert not store.exists(staged.oid)
        batch.commit()
        assert store.exists(staged.oid)
    os.close(fd)


def test_an_exception_in_the_batch_leaves_nothing(
    store: ObjectStore, ws: Path, make_file: MakeFile
) -> None:
    fd = os.open(make_file(ws / "a", b"doomed"), os.O_RDONLY)
    with pytest.raises(RuntimeError), store.batch() as batch:
        batch.ingest_copy(fd)
        raise RuntimeError("the request failed")
    os.close(fd)
    assert object_files(store) == []
    assert tmp_entries(store) == []


def test_ingesting_a_fifo_is_refused(store: ObjectStore, ws: Path) -> None:
    os.mkfifo(ws / "pipe")
    fd = os.open(ws / "pipe", os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(PermissionDenied), store.batch() as batch:
            batch.ingest_copy(fd)
    finally:
        os.close(fd)
    assert tmp_entries(store) == []


def test_ingest_from_another_filesystem(
    store: ObjectStore, shm_dir: Path, make_file: MakeFile
) -> None:
    data = os.urandom(300_000)
    staged = ingest(store, make_file(shm_dir / "big", data))
    assert store.object_path(staged.oid).read_bytes() == data


def test_verify_detects_a_modified_object(
    store: ObjectStore, ws: Path, make_file: MakeFile
) -> None:
    staged = ingest(store, make_file(ws / "a", b"original"))
    path = store.object_path(staged.oid)
    path.chmod(0o644)  # as root could, by hand
    path.write_bytes(b"tampered")
    assert not store.verify(staged.oid)


def test_missing_and_malformed_ids(store: ObjectStore) -> None:
    oid = hash_bytes(b"never stored")
    assert not store.exists(oid)
    assert store.stat(oid) is None
    with pytest.raises(NotFound):
        store.open_object(oid)
    with pytest.raises(InvalidInput):
        store.object_path("../../etc/passwd")


def test_open_object_reads_the_bytes(store: ObjectStore, ws: Path, make_file: MakeFile) -> None:
    staged = ingest(store, make_file(ws / "a", b"readable"))
    fd = store.open_object(staged.oid)
    try:
        assert os.read(fd, 100) == b"readable"
    finally:
        os.close(fd)


def test_open_tightens_a_loose_store_root(tmp_path: Path) -> None:
    root = tmp_path / "loose"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    with ObjectStore.open(root):
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        assert (root / "objects").is_dir() and (root / "tmp").is_dir()


def test_open_refuses_a_store_owned_by_someone_else(tmp_path: Path) -> None:
    root = tmp_path / "theirs"
    root.mkdir()
    os.chown(root, 65534, 65534)
    with pytest.raises(PermissionDenied, match="owned by uid 65534") as caught:
        ObjectStore.open(root)
    assert "chown" in (caught.value.hint or "")


_CRASHING_CHILD = """
import os, sys, time
from pathlib import Path
from workspace.store import ObjectStore, prepare_leases
prepare_leases()
store = ObjectStore.open(Path(sys.argv[1]))
batch = store.batch()
for name in sys.argv[2:]:
    fd = os.open(name, os.O_RDONLY)
    if name.endswith("adopt"):
        dir_fd = os.open(os.path.dirname(name), os.O_RDONLY | os.O_DIRECTORY)
        assert batch.adopt(dir_fd, os.path.basename(name), fd) is not None
    else:
        batch.ingest_copy(fd)
print("staged", flush=True)
time.sleep(60)
"""


def test_a_crash_before_commit_leaves_no_object_and_open_cleans_up(
    tmp_path: Path, ws: Path, make_file: MakeFile
) -> None:
    root = tmp_path / "store"
    ObjectStore.open(root).close()
    copied = make_file(ws / "copied", b"copied bytes")
    adopted = make_file(ws / "adopt", b"adopted bytes", mode=0o640)
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_CHILD, str(root), str(copied), str(adopted)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"staged\n"
    assert len(os.listdir(root / "tmp")) == 2
    assert stat.S_IMODE(adopted.stat().st_mode) == 0o444
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    with ObjectStore.open(root) as reopened:
        assert tmp_entries(reopened) == []
        assert object_files(reopened) == []
    assert adopted.read_bytes() == b"adopted bytes"
    assert stat.S_IMODE(adopted.stat().st_mode) == 0o640  # the adoption was undone
    assert adopted.stat().st_nlink == 1

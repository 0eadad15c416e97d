"""File workers: a checkout's links and a grant's ACL writes in worker processes.

Real worker processes, a real store, real directories: what the workers
place is exactly what the calling thread would have (same inodes, the stat
of each name just after), errors arrive as their own class, a name that
appeared meanwhile is reported at its place, and a worker that dies fails
its job with a clear error and is replaced.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime import Runtime
from workspace.errors import NotFound, PermissionDenied, StoreCorrupt
from workspace.store import ObjectStore, Placement
from workspace.store.jobs import IN_THREAD_BELOW, NameAppeared, cut
from workspace.store.workers import WorkerDied

FILES = IN_THREAD_BELOW + 88  # enough for the workers to be used


@pytest.fixture(params=[0, 2], ids=["in-thread", "workers"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    opened = ObjectStore.open(tmp_path / "store")
    opened.start_workers(request.param)
    yield opened
    opened.close()


def _objects(store: ObjectStore, count: int) -> list[str]:
    oids = []
    with store.batch() as batch:
        for i in range(count):
            fd = os.memfd_create("f")
            os.write(fd, f"file {i}\n".encode())
            os.lseek(fd, 0, os.SEEK_SET)
            oids.append(batch.ingest_copy(fd).oid)
            os.close(fd)
    return oids


def _groups(oids: list[str], per_dir: int) -> list[tuple[str, list[Placement]]]:
    groups: list[tuple[str, list[Placement]]] = []
    for start in range(0, len(oids), per_dir):
        names = range(start, min(start + per_dir, len(oids)))
        groups.append((f"d{start // per_dir}", [Placement(f"f{i}", oids[i], len(f"file {i}\n"))
                                                for i in names]))
    return groups


@contextlib.contextmanager
def _opened(directory: Path) -> Iterator[int]:
    """A directory fd, as the daemon holds a workspace's."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield fd
    finally:
        os.close(fd)


def _fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


def test_every_file_is_the_objects_inode_with_its_stat_just_after(
        store: ObjectStore, tmp_path: Path) -> None:
    oids = _objects(store, FILES)
    groups = _groups(oids, per_dir=50)
    base = tmp_path / "ws"
    base.mkdir()
    base_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    before = _fds()
    try:
        done = dict(store.link_dirs(base_fd, groups))
    finally:
        os.close(base_fd)
    assert sorted(done) == list(range(len(groups)))
    for index, (directory, placements) in enumerate(groups):
        for p, (how, st) in zip(placements, done[index], strict=True):
            path = base / directory / p.name
            on_disk = path.lstat()
            assert how == "hardlink"
            assert on_disk.st_ino == store.object_path(p.oid).lstat().st_ino
            assert st is not None and (st.st_ino, st.st_size, st.st_ctime_ns) == (
                on_disk.st_ino, on_disk.st_size, on_disk.st_ctime_ns)
    assert _fds() <= before | {str(base_fd)}  # every directory fd closed, here and sent


def test_an_executable_gets_its_own_copy_through_a_worker(
        store: ObjectStore, tmp_path: Path) -> None:
    oids = _objects(store, FILES)
    groups = _groups(oids, per_dir=FILES)
    name, oid, size = groups[0][1][7].name, groups[0][1][7].oid, groups[0][1][7].size
    groups[0][1][7] = Placement(name, oid, size, executable=True)
    with _opened(tmp_path) as base_fd:
        ((_, linked),) = list(store.link_dirs(base_fd, groups))
    assert linked[7][0] == "copy" and linked[6][0] == "hardlink"
    copy = (tmp_path / "d0" / name).lstat()
    assert copy.st_mode & 0o777 == 0o755 and copy.st_nlink == 1


def test_a_name_that_appeared_is_reported_where_it_is(store: ObjectStore,
                                                      tmp_path: Path) -> None:
    oids = _objects(store, FILES)
    groups = _groups(oids, per_dir=100)
    (tmp_path / "d3").mkdir()
    (tmp_path / "d3" / "f342").write_bytes(b"mine")  # entry 42 of directory 3
    with _opened(tmp_path) as base_fd, pytest.raises(NameAppeared) as appeared:
        list(store.link_dirs(base_fd, groups))
    assert (appeared.value.group, appeared.value.entry) == (3, 42)
    assert (tmp_path / "d3" / "f342").read_bytes() == b"mine"


def test_a_damaged_object_is_store_corrupt_from_a_worker_too(
        store: ObjectStore, tmp_path: Path) -> None:
    oids = _objects(store, FILES)
    groups = _groups(oids, per_dir=FILES)
    bad = groups[0][1][500]
    groups[0][1][500] = Placement(bad.name, bad.oid, (bad.size or 0) + 1)
    with _opened(tmp_path) as base_fd, pytest.raises(StoreCorrupt) as corrupt:
        list(store.link_dirs(base_fd, groups))
    assert corrupt.value.details["oid"] == bad.oid


def test_missing_objects_are_found_on_the_workers_as_in_thread(store: ObjectStore) -> None:
    oids = _objects(store, FILES)
    gone = [oids[3], oids[FILES - 1]]
    for oid in gone:
        store.object_path(oid).unlink()
    absent = "ab" * 32  # never stored
    assert store.missing([*oids, absent]) == [*gone, absent]
    assert store.missing(oids[:10]) == [oids[3]]  # few: in the calling thread


def test_a_missing_object_is_not_found_when_linking_from_a_worker_too(
        store: ObjectStore, tmp_path: Path) -> None:
    oids = _objects(store, FILES)
    store.object_path(oids[400]).unlink()
    with _opened(tmp_path) as base_fd, pytest.raises(NotFound) as lost:
        list(store.link_dirs(base_fd, _groups(oids, per_dir=100)))
    assert oids[400] in lost.value.message


def _worker_pids() -> list[int]:
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me and "workers" in Path(
                    f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry))
    return found


def test_a_worker_that_dies_fails_its_job_and_is_replaced(tmp_path: Path) -> None:
    with ObjectStore.open(tmp_path / "store") as store:
        store.start_workers(1)
        oids = _objects(store, FILES)
        (victim,) = _worker_pids()
        os.kill(victim, signal.SIGKILL)
        os.waitpid(victim, 0)
        base = tmp_path / "ws"
        base.mkdir()
        with _opened(base) as base_fd:
            with pytest.raises(WorkerDied) as died:
                list(store.link_dirs(base_fd, _groups(oids, per_dir=FILES)))
            assert "run the command again" in (died.value.hint or "")
            deadline = time.monotonic() + 10
            while not _worker_pids():
                assert time.monotonic() < deadline, "no worker replaced the dead one"
                time.sleep(0.05)
            done = dict(store.link_dirs(base_fd, _groups(oids, per_dir=FILES)))
        assert all(how == "hardlink" for how, _ in done[0])


def test_closing_the_store_stops_its_workers(tmp_path: Path) -> None:
    store = ObjectStore.open(tmp_path / "store")
    store.start_workers(2)
    assert len(_worker_pids()) == 2
    store.close()
    assert _worker_pids() == []


@pytest.mark.parametrize("workers", [1, 2, 8])
def test_a_checkout_is_cut_in_jobs_for_every_worker_in_directory_order(workers: int) -> None:
    sizes = [100] * 100 + [5000] + [1] * 300
    jobs = cut(sizes, workers)
    assert [i for job in jobs for i in job] == list(range(len(sizes)))  # each once, in order
    assert len(jobs) >= 2 * workers
    assert all(len(job) <= 64 for job in jobs)
    assert all(sum(sizes[i] for i in job) <= 1000 or len(job) == 1 for job in jobs)


# ---- staging (add, commit) on the workers ----------------------------------------------


def _tree(base: Path, count: int) -> list[tuple[str, list[str]]]:
    """``count`` files of unique bytes in directories of 100; ``d0/f1`` repeats ``d0/f0``."""
    groups: list[tuple[str, list[str]]] = []
    for start in range(0, count, 100):
        directory = f"d{start // 100}"
        (base / directory).mkdir(parents=True)
        names = [f"f{i}" for i in range(start, min(start + 100, count))]
        for name in names:
            (base / directory / name).write_bytes(f"{directory}/{name}\n".encode())
        groups.append((directory, names))
    (base / "d0" / "f1").write_bytes(b"d0/f0\n")
    return groups


def test_files_staged_on_workers_are_adopted_or_copied_as_in_thread(
        store: ObjectStore, tmp_path: Path, leases_ready: None) -> None:
    base = tmp_path / "ws"
    groups = _tree(base, FILES)
    (base / "d1" / "f100").chmod(0o755)  # an executable is copied, never adopted
    with _opened(base) as base_fd, store.batch() as batch:
        done = dict(store.stage_dirs(batch, base_fd, groups, adopt=True, owner_uid=None))
    first, dup = done[0][0], done[0][1]
    assert first[2] and first[0].new  # adopted: the user's inode is the object now
    assert (base / "d0" / "f0").lstat().st_ino == store.object_path(first[0].oid).lstat().st_ino
    assert dup[0].oid == first[0].oid and not dup[0].new  # known: dropped, mode given back
    assert (base / "d0" / "f1").stat().st_mode & 0o777 == 0o644
    executable = done[1][0]
    assert not executable[2] and (base / "d1" / "f100").stat().st_mode & 0o777 == 0o755
    assert store.object_path(executable[0].oid).read_bytes() == b"d1/f100\n"
    assert len(batch.published) == FILES - 1
    assert os.listdir(store.root / "tmp") == []


def test_files_whose_bytes_are_stored_already_are_dropped_when_published(
        store: ObjectStore, tmp_path: Path, leases_ready: None) -> None:
    """Staged on the workers, an id is not looked up before the commit: the publish finds
    the object there, keeps it (not the user's inode) and drops the temp."""
    base = tmp_path / "ws"
    groups = _tree(base, FILES)
    paths = [base / d / name for d, names in groups for name in names]
    stored = {}
    with store.batch() as earlier:
        for path in paths:
            with path.open("rb") as f:
                stored[path] = earlier.ingest_copy(f.fileno()).oid
    with _opened(base) as base_fd, store.batch() as batch:
        done = dict(store.stage_dirs(batch, base_fd, groups, adopt=True, owner_uid=None))
    assert [s.oid for i in sorted(done) for s, _, _ in done[i]] == [stored[p] for p in paths]
    assert batch.published == set()
    assert os.listdir(store.root / "tmp") == []
    for path in paths:
        obj = store.object_path(stored[path])
        assert obj.lstat().st_ino != path.lstat().st_ino  # the earlier copy stays the object
        assert obj.read_bytes() == path.read_bytes()


def test_an_error_on_a_worker_leaves_no_temp_and_gives_every_mode_back(
        store: ObjectStore, tmp_path: Path, leases_ready: None) -> None:
    base = tmp_path / "ws"
    groups = _tree(base, FILES)
    last_dir, last_names = groups[-1]
    (base / last_dir / last_names[-1]).unlink()
    os.mkfifo(base / last_dir / last_names[-1])  # not a regular file: refused
    with _opened(base) as base_fd, pytest.raises(PermissionDenied), store.batch() as batch:
        for _ in store.stage_dirs(batch, base_fd, groups, adopt=True, owner_uid=None):
            pass
    assert os.listdir(store.root / "tmp") == []
    assert list(store.object_ids()) == []
    regular = [base / d / n for d, names in groups for n in names][:-1]
    assert {p.stat().st_mode & 0o777 for p in regular} == {0o644}
    assert {p.stat().st_nlink for p in regular} == {1}


def test_a_file_of_another_owner_is_refused_on_a_worker_too(
        store: ObjectStore, tmp_path: Path, runtime: Runtime) -> None:
    base = tmp_path / "ws"
    groups = _tree(base, FILES)
    bob = runtime.user("bob")
    os.chown(base / "d2" / "f250", bob.uid, bob.gid)
    with (_opened(base) as base_fd, pytest.raises(PermissionDenied) as refused,
          store.batch() as batch):
        for _ in store.stage_dirs(batch, base_fd, groups, adopt=False, owner_uid=os.geteuid()):
            pass
    assert f"owned by uid {bob.uid}" in refused.value.message
    assert os.listdir(store.root / "tmp") == []


def test_with_no_worker_left_the_calling_thread_does_the_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ObjectStore.open(tmp_path / "store") as store:
        store.start_workers(1)
        oids = _objects(store, FILES)
        (victim,) = _worker_pids()
        monkeypatch.setattr("workspace.store.workers.sys.executable", "/nonexistent/python")
        os.kill(victim, signal.SIGKILL)
        os.waitpid(victim, 0)
        with _opened(tmp_path) as base_fd:
            with pytest.raises(WorkerDied):  # the job on the dead one; no other can start
                list(store.link_dirs(base_fd, _groups(oids, per_dir=FILES)))
            assert _worker_pids() == []
            done = dict(store.link_dirs(base_fd, _groups(oids, per_dir=FILES)))
        assert [how for how, _ in done[0]] == ["hardlink"] * FILES

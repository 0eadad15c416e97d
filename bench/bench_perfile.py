#!/usr/bin/env python3
"""Per-file cost of the daemon's ingest and materialize against the system-call floor.

Run by hand (see bench/README.md); it imports the ``workspace`` package and
runs the services in this process, on a real SQLite database and store, so
the CLI and HTTP are not counted (``bench_vs_dvc.py`` measures those).

    python bench/bench_perfile.py                  # 10,000 x 4 KiB
    python bench/bench_perfile.py --files 2000 --profile ingest

The *floor* is every system call the real path makes for each file, in one
tight Python loop with nothing else around it (the same calls, so what the
ratio measures is the Python and the database work around them):

* ingest (adoption, single-user mode): the scan (``getdents``, ``lstat``);
  per file ``lstat``, ``open`` (``O_NOFOLLOW``) relative to a reused
  directory fd, ``fstat``, take a read lease, ``pread`` 4 KiB, BLAKE3,
  ``fchmod 0444``, check and renew the lease, ``lstat`` the object (already
  stored?), ``link`` into ``tmp/``, ``stat`` that link (the inode we read),
  release the lease, ``close``; one ``syncfs``; ``link`` each temp to its
  final name, ``unlink`` the temp (design.md, "add / commit", steps 3-4);
  then the stat cache's ``lstat`` of each file;
* materialize (into an empty directory): ``fstatat`` the object (its size
  is checked), ``link`` it into the reused directory fd, ``lstat`` the new
  name (the stat cache needs its ctime).

The *real* path is ``workspaces.commit.add`` and ``workspaces.sync.get``:
the whole service call with its read and write transactions, pins, audit
events, version and stat-cache rows. Each is run ``--runs`` times on fresh
data, alternating with the floor; medians are printed with their ratio.

``--workers N`` runs the real path as the daemon does, with N file workers
(``store/workers.py``): the per-file system calls then run in N processes at
once. Its CPU time counts the workers' too (read from ``/proc``), so the CPU
ratio stays the per-file cost; the wall ratio is what a user waits. Without
it (``0``, the default) everything runs in this thread.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import fcntl
import os
import pstats
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import blake3

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from benchlib import write_small_tree  # noqa: E402

from workspace.auth import Caller, bootstrap_admin  # noqa: E402
from workspace.daemon import tune_garbage_collector  # noqa: E402
from workspace.db import Database, migrate  # noqa: E402
from workspace.store import ObjectStore, prepare_leases  # noqa: E402
from workspace.store.durability import syncfs  # noqa: E402
from workspace.workspaces import commit, registry, sync  # noqa: E402
from workspace.workspaces.context import ServiceContext  # noqa: E402

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
T = TypeVar("T")
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


Times = tuple[float, float]  # (wall clock, CPU time of this process), in seconds


def clock() -> Times:
    return time.perf_counter(), time.process_time() + _children_cpu()


def _children_cpu() -> float:
    """CPU seconds of this process's live children (the store's file workers)."""
    total = 0.0
    for task in Path("/proc/self/task").iterdir():
        for child in (task / "children").read_text().split():
            with contextlib.suppress(FileNotFoundError):
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def since(start: Times) -> Times:
    """Wall and CPU seconds since ``start``: on a loaded machine CPU time is the steadier."""
    now = clock()
    return now[0] - start[0], now[1] - start[1]


def floor_ingest(data: Path, store: Path) -> Times:
    """The ingest floor over every file under ``data``: the real path's system calls only."""
    tmp_fd = os.open(store / "tmp", DIR_FLAGS)
    obj_fd = os.open(store / "objects", DIR_FLAGS)
    staged: list[str] = []
    start = clock()
    for directory in sorted(os.listdir(data)):
        dir_fd = os.open(data / directory, DIR_FLAGS)
        with os.scandir(dir_fd) as entries:  # the scan that finds what changed
            names = sorted(e.name for e in entries if e.stat(follow_symlinks=False))
        for name in names:
            staged.append(_floor_stage(dir_fd, name, tmp_fd, obj_fd))
        os.close(dir_fd)
    syncfs(tmp_fd)  # the store's own (ctypes: Python has no os.syncfs)
    for oid in staged:
        with contextlib.suppress(FileExistsError):
            os.mkdir(oid[:2], dir_fd=obj_fd)
        os.link(oid, f"{oid[:2]}/{oid[2:]}", src_dir_fd=tmp_fd, dst_dir_fd=obj_fd)
        os.unlink(oid, dir_fd=tmp_fd)
    for directory in sorted(os.listdir(data)):  # the stat cache's rows: stats after the chmod
        with os.scandir(data / directory) as entries:
            for entry in entries:
                entry.stat(follow_symlinks=False)
    seconds = since(start)
    os.close(tmp_fd)
    os.close(obj_fd)
    return seconds


def _floor_stage(dir_fd: int, name: str, tmp_fd: int, obj_fd: int) -> str:
    """Adopt one file: every system call ``IngestBatch.adopt`` makes, nothing else."""
    os.stat(name, dir_fd=dir_fd, follow_symlinks=False)  # never open a device
    fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    st = os.fstat(fd)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    oid: str = blake3.blake3(os.pread(fd, st.st_size, 0)).hexdigest()
    os.fchmod(fd, 0o444)
    fcntl.fcntl(fd, fcntl.F_GETLEASE)  # the lease held: nobody wrote while we hashed
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    with contextlib.suppress(FileNotFoundError):  # deduplicated?
        os.stat(f"{oid[:2]}/{oid[2:]}", dir_fd=obj_fd, follow_symlinks=False)
    os.link(name, oid, src_dir_fd=dir_fd, dst_dir_fd=tmp_fd, follow_symlinks=False)
    os.stat(oid, dir_fd=tmp_fd, follow_symlinks=False)  # the inode we read, not a swapped one
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    os.close(fd)
    return oid


def floor_materialize(objects: Path, plan: list[tuple[str, str, str]], into: Path) -> Times:
    """Link each (directory, name, oid) of ``plan`` under ``into``; returns seconds."""
    obj_fd = os.open(objects, DIR_FLAGS)
    start = clock()
    current, dir_fd = None, -1
    for directory, name, oid in plan:
        if directory != current:
            if dir_fd >= 0:
                os.close(dir_fd)
            (into / directory).mkdir(parents=True)
            dir_fd, current = os.open(into / directory, DIR_FLAGS), directory
        src = f"{oid[:2]}/{oid[2:]}"
        os.stat(src, dir_fd=obj_fd, follow_symlinks=False)
        os.link(src, name, src_dir_fd=obj_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    os.close(dir_fd)
    seconds = since(start)
    os.close(obj_fd)
    return seconds


def object_plan(data: Path) -> list[tuple[str, str, str]]:
    """(directory, name, oid) of every file of a tree, in order."""
    plan = []
    for directory in sorted(os.listdir(data)):
        for name in sorted(os.listdir(data / directory)):
            oid = blake3.blake3((data / directory / name).read_bytes()).hexdigest()
            plan.append((directory, name, oid))
    return plan


class Real:
    """The services on a fresh SQLite database and store under ``home``."""

    def __init__(self, home: Path, workers: int) -> None:
        home.mkdir()
        url = f"sqlite:///{home / 'workspace.db'}"
        migrate(url)
        self.db = Database(url)
        self.store = ObjectStore.open(home / "store")
        self.store.start_workers(workers)
        with self.db.write() as session:
            self.caller: Caller = bootstrap_admin(session, os.geteuid())
        self.ctx = ServiceContext(db=self.db, store=self.store)
        self.count = 0
        tune_garbage_collector()  # as the daemon does once it has started

    def workspace(self, root: Path) -> Path:
        root.mkdir(exist_ok=True)
        with self.db.write() as session:
            registry.register(session, self.caller, str(root))
        return root

    def add(self, project: Path) -> tuple[str, Times]:
        self.count += 1
        name = f"bench/d{self.count}"
        start = clock()
        commit.add(self.ctx, self.caller, path=str(project / "data"), dataset=name,
                   message="bench")
        return name, since(start)

    def get(self, name: str, project: Path) -> Times:
        start = clock()
        sync.get(self.ctx, self.caller, ref=name, path=str(project / "data"))
        return since(start)

    def close(self) -> None:
        self.store.close()
        self.db.dispose()


def profiled(what: str, wanted: str | None, call: Callable[[], T]) -> T:
    if wanted != what:
        return call()
    profile = cProfile.Profile()
    result = profile.runcall(call)
    stats = pstats.Stats(profile, stream=sys.stderr)
    stats.sort_stats(os.environ.get("SORT", "tottime")).print_stats(30)
    return result


def run(files: int, runs: int, scratch: Path, profile: str | None,
        workers: int) -> dict[str, list[Times]]:
    real = Real(scratch / "home", workers)
    out: dict[str, list[Times]] = {k: [] for k in ("floor_in", "real_in", "floor_out",
                                                   "real_out")}
    try:
        for i in range(runs):
            floor_data = scratch / f"floor{i}" / "data"
            project = real.workspace(scratch / f"real{i}")
            write_small_tree(floor_data, files)
            write_small_tree(project / "data", files)
            floor_store = scratch / f"floorstore{i}"
            (floor_store / "tmp").mkdir(parents=True)
            (floor_store / "objects").mkdir()
            os.sync()
            out["floor_in"].append(floor_ingest(floor_data, floor_store))
            name, seconds = profiled("ingest", profile, lambda p=project: real.add(p))
            out["real_in"].append(seconds)
            plan = object_plan(floor_data)
            out["floor_out"].append(floor_materialize(floor_store / "objects", plan,
                                                      scratch / f"floorout{i}"))
            target = real.workspace(scratch / f"out{i}")
            out["real_out"].append(profiled("materialize", profile,
                                            lambda n=name, t=target: real.get(n, t)))
    finally:
        real.close()
    return out


def report(files: int, out: dict[str, list[Times]], workers: int) -> None:
    print(f"{files:,} files x 4 KiB, {len(out['real_in'])} run(s), medians; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; "
          f"{f'{workers} file workers' if workers else 'in-thread (no file workers)'}")
    for label, floor, real in (("ingest (ws add, adopt)", "floor_in", "real_in"),
                               ("materialize (ws get)", "floor_out", "real_out")):
        for i, kind in enumerate(("wall", "cpu")):
            f = statistics.median(t[i] for t in out[floor])
            r = statistics.median(t[i] for t in out[real])
            print(f"{label:23} {kind:4}  floor {f:6.3f} s ({f / files * 1e6:5.1f} us/file)  "
                  f"real {r:6.3f} s ({r / files * 1e6:5.1f} us/file)  ratio {r / f:4.2f}x"
                  f"{'  (target <= 2x)' if kind == 'cpu' else ''}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", choices=["ingest", "materialize"],
                        help="print a cProfile of that real path (first run) to stderr")
    parser.add_argument("--keep", action="store_true", help="leave the scratch directory")
    parser.add_argument("--workers", type=int, default=0,
                        help="file worker processes for the real path (default 0: in-thread)")
    args = parser.parse_args(argv)
    prepare_leases()
    previous = signal.getsignal(signal.SIGIO)
    scratch = Path(tempfile.mkdtemp(prefix="ws-perfile-", dir=Path.cwd()))
    try:
        report(args.files, run(args.files, args.runs, scratch, args.profile, args.workers),
               args.workers)
    finally:
        signal.signal(signal.SIGIO, previous)
        if args.keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

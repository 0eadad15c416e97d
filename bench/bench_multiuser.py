"""Many users, one dataset: N users checking out the same dataset at once vs one user alone.

The shared-server case (issue: "8 users checking out the same 10,000-file
dataset at once: total time within 2x of one user's checkout, nothing
duplicated on disk"). Run by hand, as root (it creates Unix users):

    python bench/bench_multiuser.py                    # 8 users, 10,000 x 4 KiB files
    python bench/bench_multiuser.py --users 4 --files 2000 --json

Set-up (not timed): the test suite's runtime makes ``wst-*`` system users, a
Python environment they may run and a readable copy of the source; a daemon
in service mode runs as ``wst-bsvc``; ``wst-b0`` adds the dataset; every user
runs ``ws init`` in two private workspaces. Timed, wall clock, each ``ws get``
a whole CLI process as a user would run it:

* one: ``ws get`` by one user at a time, each into a fresh workspace, three
  users in turn; the median is the single-user time;
* all: every user's ``ws get`` started together (after a barrier); the time
  from the start to the last one's exit.

Disk: the store's size is measured before and after; ``du`` over the store
and every workspace at once (an inode linked from many places counts once)
shows what the checkouts added; and every checked-out file must be the
author's inode. Everything is removed at the end (users included) unless
``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from benchlib import BenchError, du_total, log, tree_cpu, write_small_tree  # noqa: E402

from tests.support.daemon import as_user, give  # noqa: E402
from tests.support.runtime import Identity, Runtime, make_runtime  # noqa: E402
from tests.support.service import ServiceDaemon, start_service_daemon  # noqa: E402

DATASET = "bench/shared"
SOLO_RUNS = 3


@dataclass(frozen=True)
class Options:
    users: int
    files: int
    keep: bool
    as_json: bool


@dataclass
class Checkout:
    user: str
    seconds: float
    linked: int
    copied: int


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8, help="users checking out at once")
    parser.add_argument("--files", type=int, default=10_000, help="files in the dataset (4 KiB)")
    parser.add_argument("--keep", action="store_true", help="leave the scratch directory")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")
    args = parser.parse_args(argv)
    return Options(args.users, args.files, args.keep, args.as_json)


def get(daemon: ServiceDaemon, who: Identity, project: Path) -> Checkout:
    """One `ws get` as ``who``, timed from process start to exit."""
    argv = [daemon.runtime.python, "-m", "workspace.cli.main", "get", DATASET, "data", "--json"]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=project, env=daemon.env(), capture_output=True, text=True,
                          **as_user(daemon.runtime, who))
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"ws get as {who.name} exited {done.returncode}: {done.stderr[-2000:]}")
    summary = json.loads(done.stdout)["summary"]
    return Checkout(who.name, seconds, summary["linked"], summary["copied"])


def all_at_once(daemon: ServiceDaemon,
                jobs: list[tuple[Identity, Path]]) -> tuple[float, tuple[float, float], list]:
    """Every job's `ws get` released together: the time until the last one is done, and the
    CPU time they took (daemon and CLI processes; the machine's floor is that / its cores)."""
    results: list[Checkout | BaseException] = [RuntimeError("not run")] * len(jobs)
    barrier = threading.Barrier(len(jobs) + 1)

    def work(index: int, who: Identity, project: Path) -> None:
        barrier.wait()
        try:
            results[index] = get(daemon, who, project)
        except BaseException as exc:  # reported below, in the main thread
            results[index] = exc

    threads = [threading.Thread(target=work, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(daemon)
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    total = time.perf_counter() - start
    for result in results:
        if isinstance(result, BaseException):
            raise result
    cpu_after = cpu_seconds(daemon)
    return total, (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]), results


def cpu_seconds(daemon: ServiceDaemon) -> tuple[float, float]:
    """CPU time so far of the daemon (all its threads, and its file workers), and of every
    reaped `ws` process."""
    assert daemon.process is not None
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return tree_cpu(daemon.process.pid), children.ru_utime + children.ru_stime


def workspace(daemon: ServiceDaemon, runtime: Runtime, who: Identity, name: str) -> Path:
    project = runtime.make_dir(who, name)
    daemon.ws("init", cwd=project, user=who)
    return project


def shared_inodes(author_data: Path, projects: list[Path]) -> int:
    """How many checked-out files are *not* the author's inode (0: nothing duplicated)."""
    inodes = {p.relative_to(author_data): p.stat().st_ino
              for p in author_data.rglob("*") if p.is_file()}
    apart = 0
    for project in projects:
        for rel, ino in inodes.items():
            apart += (project / "data" / rel).stat().st_ino != ino
    return apart


def bench(opts: Options, runtime: Runtime) -> dict[str, Any]:
    service = runtime.user("bsvc")
    users = [runtime.user(f"b{i}") for i in range(opts.users + 1)]
    daemon = start_service_daemon(runtime, service)
    try:
        author = workspace(daemon, runtime, users[0], "author")
        log(f"writing {opts.files:,} files and adding them as {users[0].name}")
        write_small_tree(author / "data", opts.files)
        give(author / "data", users[0])
        daemon.ws("add", "data", "-d", DATASET, "-m", "bench", cwd=author, user=users[0])
        solo = [workspace(daemon, runtime, u, "solo") for u in users[1:SOLO_RUNS + 1]]
        together = [workspace(daemon, runtime, u, "together") for u in users[1:]]
        store_before = du_total([daemon.store])
        log(f"one user at a time, {len(solo)} times")
        singles = [get(daemon, u, p) for u, p in zip(users[1:], solo, strict=False)]
        log(f"{opts.users} users at once")
        total, cpu, concurrent = all_at_once(daemon, list(zip(users[1:], together, strict=True)))
        store_after = du_total([daemon.store])
        projects = solo + together
        return {
            "users": opts.users, "files": opts.files,
            "one_user_seconds": round(statistics.median(c.seconds for c in singles), 3),
            "one_user_runs": [round(c.seconds, 3) for c in singles],
            "all_users_seconds": round(total, 3),
            "all_users_cpu_seconds": round(sum(cpu), 3),
            "daemon_cpu_seconds": round(cpu[0], 3), "cli_cpu_seconds": round(cpu[1], 3),
            "each_of_all_seconds": [round(c.seconds, 3) for c in concurrent],
            "copied": sum(c.copied for c in [*singles, *concurrent]),
            "linked": sum(c.linked for c in [*singles, *concurrent]),
            "store_bytes_before": store_before, "store_bytes_after": store_after,
            "du_store_and_workspaces": du_total([daemon.store, author,
                                                 *(p for p in projects)]),
            "du_store_and_author": du_total([daemon.store, author]),
            "files_not_sharing_the_authors_inode": shared_inodes(author / "data", projects),
        }
    finally:
        daemon.stop()


def report(result: dict[str, Any]) -> None:
    ratio = result["all_users_seconds"] / result["one_user_seconds"]
    extra = result["du_store_and_workspaces"] - result["du_store_and_author"]
    workspaces = SOLO_RUNS + result["users"]
    print(f"{result['users']} users x {result['files']:,} files (4 KiB each), service mode")
    print(f"one user's `ws get`, median of {SOLO_RUNS}: {result['one_user_seconds']:.2f} s  "
          f"(runs: {', '.join(f'{s:.2f}' for s in result['one_user_runs'])})")
    print(f"{result['users']} users at once, until the last is done: "
          f"{result['all_users_seconds']:.2f} s  (each: "
          f"{', '.join(f'{s:.2f}' for s in result['each_of_all_seconds'])})")
    cores = os.cpu_count() or 1
    print(f"ratio all/one: {ratio:.2f}x  (the first shared-server target, within 2x, held while "
          f"one checkout left cores idle; one now keeps all {cores} busy through the file "
          "workers, so the bound is the floor below)")
    floor = result["all_users_cpu_seconds"] / cores
    print(f"CPU time of the {result['users']} checkouts (daemon + CLIs): "
          f"{result['all_users_cpu_seconds']:.2f} s (daemon and its file workers "
          f"{result['daemon_cpu_seconds']:.2f} s, "
          f"ws processes {result['cli_cpu_seconds']:.2f} s); {cores}-core floor {floor:.2f} s; "
          f"wall/floor {result['all_users_seconds'] / floor:.2f}x  (target: <= 1.3x)")
    print(f"files linked: {result['linked']:,}, copied: {result['copied']:,}; files not sharing "
          f"the author's inode: {result['files_not_sharing_the_authors_inode']:,}")
    print(f"store: {result['store_bytes_before']:,} B before the checkouts, "
          f"{result['store_bytes_after']:,} B after")
    print(f"du of store + all {workspaces} checkouts beyond store + author: {extra:,} B "
          f"({extra / workspaces / 1024:.0f} KiB per checkout: its directories, with their ACL, "
          "and pointer file; no file data)")


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if os.geteuid() != 0:
        print("run as root: the benchmark creates one Unix user per workspace user",
              file=sys.stderr)
        return 2
    runtime = make_runtime()
    try:
        result = bench(opts, runtime)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if opts.keep:
            log(f"kept {runtime.scratch}")
        else:
            runtime.close()
    result["machine"] = f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}"
    if opts.as_json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
        print(f"machine: {result['machine']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

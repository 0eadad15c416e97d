"""`workspace.open` of a 1 GiB object: a passed fd (zero-copy) against streaming over HTTP.

Run by hand: ``python bench/bench_open.py [--gib 1] [--repeat 3]`` (needs the
package installed: ``pip install -e .``). Starts a real ``ws serve`` on a
scratch home, adds one file of random bytes, then reads it back through the
Python API, as a user's script would (this process is the client):

- ``fd``: ``workspace.open(ref, path)``; the daemon passes the object's fd
  over its fd socket after the access check and the audit event;
- ``stream``: the same with ``transport="stream"``: the bytes come as the
  body of ``GET /v1/files/content`` over the Unix socket, in 4 MiB chunks;
- ``local``: the same bytes read from the workspace's own hardlink, no daemon
  at all: the floor both are held against.

Each reads into one reused 16 MiB buffer (bounded memory), page cache warm;
the best of ``--repeat`` runs counts. Prints GB/s (10^9 bytes/s) and the
ratios in this run, with the load average before and after: the machine is
shared, so figures move with what else runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import GIB, MIB, log, running_daemon, write_big_file

import workspace

BUFFER = 16 * MIB
TARGET_GBPS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0, help="size of the object")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best counts")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="ws-bench-open-"))
    try:
        _run(scratch, int(args.gib * GIB), args.repeat)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(scratch: Path, size: int, repeat: int) -> None:
    home, project = scratch / "home", scratch / "project"
    env = {**os.environ, "WORKSPACE_HOME": str(home)}
    ws = [sys.executable, "-m", "workspace.cli.main"]
    load_before = os.getloadavg()
    with running_daemon([*ws, "serve"], env, home, scratch / "daemon.log"):
        project.mkdir()
        log(f"writing {size / GIB:.2f} GiB of random bytes")
        write_big_file(project / "big.bin", size)
        for step in (["init"], ["add", "big.bin", "-d", "bench/open", "-m", "bench"]):
            subprocess.run([*ws, *step], cwd=project, env=env, check=True, capture_output=True)
        sock = home / "ws.sock"
        cases: dict[str, Callable[[], IO[bytes]]] = {
            "fd": lambda: workspace.open("bench/open", "big.bin", transport="fd", socket=sock),
            "stream": lambda: workspace.open("bench/open", "big.bin", transport="stream",
                                             socket=sock),
            "local": lambda: (project / "big.bin").open("rb"),
        }
        best = {name: _best(opener, size, repeat) for name, opener in cases.items()}
    _report(size, best, load_before, os.getloadavg())


def _best(opener: Callable[[], IO[bytes]], size: int, repeat: int) -> float:
    _read_all(opener, size)  # warm the page cache and the daemon's connection path
    return min(_read_all(opener, size) for _ in range(repeat))


def _read_all(opener: Callable[[], IO[bytes]], size: int) -> float:
    buffer = bytearray(BUFFER)
    start = time.perf_counter()
    total = 0
    with opener() as handle:
        while count := handle.readinto(buffer):  # type: ignore[attr-defined]
            total += count
    seconds = time.perf_counter() - start
    if total != size:
        raise SystemExit(f"read {total} bytes, expected {size}")
    return seconds


def _report(size: int, best: dict[str, float], before: tuple[float, ...],
            after: tuple[float, ...]) -> None:
    rate = {name: size / seconds / 1e9 for name, seconds in best.items()}
    print(f"workspace.open of {size / GIB:.2f} GiB, best of runs, page cache warm")
    print(f"load average at start {before[0]:.2f}, at end {after[0]:.2f} "
          f"(the machine is shared: {os.cpu_count()} cores)")
    print(f"{'case':<8}{'seconds':>10}{'GB/s':>8}")
    for name in ("fd", "stream", "local"):
        print(f"{name:<8}{best[name]:>10.3f}{rate[name]:>8.2f}")
    print(f"fd / stream: {rate['fd'] / rate['stream']:.1f}x; fd / local: "
          f"{rate['fd'] / rate['local']:.2f}; target {TARGET_GBPS:.1f} GB/s for fd: "
          f"{'met' if rate['fd'] >= TARGET_GBPS else 'missed'}")


if __name__ == "__main__":
    main()

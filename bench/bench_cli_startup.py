#!/usr/bin/env python3
"""What `ws` adds over bare Python: start-up of the cheap commands and of a no-op status.

Run by hand (see bench/README.md). Starts a real daemon on a scratch home,
adds a tree of small files (10,000 by default, untimed), waits until the
watcher answers status from memory, then times as subprocesses, interleaved
round by round, median of ``--runs``:

- ``python -c pass`` (the floor: the interpreter and site start-up);
- ``ws --version``, ``ws --help``, ``ws status`` (no-op, in the project);
- ``GET /v1/status`` over the socket from this process (server side), so
  that the client side of `ws status` is its end-to-end time minus this;
- the two transports the client could use for one request, each in a fresh
  interpreter (import and one ``GET /v1/health``): httpx, and the standard
  library's ``http.client`` over AF_UNIX (``workspace.client.unixhttp``).

Target (issue 12): `ws --version` and the client side of `ws status` at most
60 ms over ``python -c pass``. Then ``-X importtime`` of both, the largest
cumulative imports first: what remains.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench_status import wait_warm
from bench_vs_dvc import find_ws, scratch_parent
from benchlib import BenchError, in_scratch, log, running_daemon, timed_get, write_small_tree

TARGET_MS = 60.0
HTTPX_GET = (
    "import sys, ssl; sys.modules.setdefault('httpx._main', None); "
    "sys.modules.setdefault('trio', None); import httpx; "
    "c = httpx.Client(transport=httpx.HTTPTransport(uds=sys.argv[1], "
    "verify=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)), base_url='http://ws'); "
    "assert c.get('/v1/health').status_code == 200"
)
STDLIB_GET = (
    "import sys; from workspace.client.unixhttp import UnixHttp; "
    "assert UnixHttp(sys.argv[1], connect_timeout=10, timeout=10)"
    ".request('GET', '/v1/health').status == 200"
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--files", type=int, default=10_000, help="files in the tracked tree")
    p.add_argument("--runs", type=int, default=21, help="timed rounds")
    p.add_argument("--top", type=int, default=12, help="imports listed per profile")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--ws", help="the ws command (default: `ws` on PATH, else python -m)")
    return p.parse_args(argv)


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"{argv} exited {done.returncode}: {done.stderr[-2000:]!r}")
    return seconds


def measure(cases: dict[str, Callable[[], float]], runs: int) -> dict[str, float]:
    """Median seconds of each case, the cases interleaved so that load swings hit all."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for case in cases.values():  # warm: page cache, and the bytecode caches written
        case()
    for _ in range(runs):
        for name, case in cases.items():
            times[name].append(case())
    return {name: statistics.median(values) for name, values in times.items()}


def import_profile(argv: Sequence[str], cwd: Path, env: dict[str, str], top: int) -> str:
    """The ``top`` largest cumulative imports of one run under ``-X importtime``."""
    done = subprocess.run(list(argv), cwd=cwd, env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
                          capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if line.startswith("import time:") and len(parts) == 3 and parts[1].strip().isdigit():
            self_us = int(parts[0].split(":")[1])
            rows.append((int(parts[1]), self_us, parts[2][1:]))  # nested names stay indented
    total = sum(c for c, _, name in rows if not name.startswith(" "))
    rows.sort(reverse=True)
    lines = [f"  {c / 1000:7.1f} ms cumulative {s / 1000:6.1f} ms self  {name.strip()}"
             for c, s, name in rows[:top]]
    return "\n".join([f"  (top-level imports: {total / 1000:.1f} ms in all)", *lines])


def bench(args: argparse.Namespace, root: Path) -> str:
    ws = tuple(args.ws.split()) if args.ws else find_ws()[0]
    home, project = root / "home", root / "project"
    env = {**os.environ, "WORKSPACE_HOME": str(home)}
    # PYTHONDONTWRITEBYTECODE would make every run compile the package from source (an
    # installed package has its .pyc files): the first, untimed round writes them.
    for name in ("WORKSPACE_SOCKET", "WORKSPACE_CONFIG", "WORKSPACE_SERVER",
                 "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    write_small_tree(project / "data", args.files)
    socket_path = home / "ws.sock"
    load_start = os.getloadavg()
    with running_daemon([*ws, "serve"], env, home, root / "ws-serve.log"):
        timed([*ws, "init"], project, env)
        timed([*ws, "add", "data", "-d", "bench/startup", "-m", "bench"], project, env)
        log(f"watcher warm after {wait_warm(socket_path, project):.1f}s")
        py = sys.executable
        cases: dict[str, Callable[[], float]] = {
            "python -c pass": lambda: timed([py, "-c", "pass"], project, env),
            "ws --version": lambda: timed([*ws, "--version"], project, env),
            "ws --help": lambda: timed([*ws, "--help"], project, env),
            "ws status": lambda: timed([*ws, "status"], project, env),
            "GET /v1/status (server side)":
                lambda: timed_get(socket_path, "/v1/status", {"path": str(project)})[0],
            "python: import httpx + 1 GET":
                lambda: timed([py, "-c", HTTPX_GET, str(socket_path)], project, env),
            "python: http.client + 1 GET":
                lambda: timed([py, "-c", STDLIB_GET, str(socket_path)], project, env),
        }
        medians = measure(cases, args.runs)
        profiles = {what: import_profile([*ws, *what.split()], project, env, args.top)
                    for what in ("--version", "status")}
    return report(args, medians, profiles, load_start)


def report(args: argparse.Namespace, medians: dict[str, float], profiles: dict[str, str],
           load_start: tuple[float, float, float]) -> str:
    floor = medians["python -c pass"]
    server = medians["GET /v1/status (server side)"]
    client = medians["ws status"] - server
    lines = [f"ws start-up, {args.files:,} tracked files, medians of {args.runs} interleaved "
             f"runs; {os.cpu_count()} CPUs, load average {load_start[0]:.2f} at start, "
             f"{os.getloadavg()[0]:.2f} at end", ""]
    for name, seconds in medians.items():
        over = "" if name.startswith("GET") else f"   +{(seconds - floor) * 1000:6.1f} ms"
        lines.append(f"{name:<32} {seconds * 1000:8.1f} ms{over}")
    lines.append(f"{'ws status, client side':<32} {client * 1000:8.1f} ms"
                 f"   +{(client - floor) * 1000:6.1f} ms  (end to end minus server side)")
    version_over = (medians["ws --version"] - floor) * 1000
    client_over = (client - floor) * 1000
    lines += ["", "targets:",
              _check("ws --version <= 60 ms over python -c pass", version_over),
              _check("ws status client side <= 60 ms over python -c pass", client_over), ""]
    for what, profile in profiles.items():
        lines += [f"-X importtime, ws {what}:", profile]
    return "\n".join(lines)


def _check(what: str, over_ms: float) -> str:
    return f"  {'met ' if over_ms <= TARGET_MS else 'MISSED'}  {what}: +{over_ms:.1f} ms"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return in_scratch("ws-bench-startup-", scratch_parent(None), args.keep,
                      lambda root: bench(args, root))


if __name__ == "__main__":
    sys.exit(main())

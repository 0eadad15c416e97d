"""Authorized read requests per second on the daemon's Unix socket (issue target: 500/s).

Run by hand: ``python bench/bench_requests.py [--clients 1,2,4] [--seconds 5]``.
Starts a real ``ws serve`` on a scratch home, makes one small dataset, then,
for each client count, runs that many processes that each keep one HTTP/1.1
connection open and issue ``GET /v1/ls?ref=bench/req`` (identity from the
socket, policy check, a database read) as fast as the daemon answers. Prints
requests/s and latency percentiles measured by the clients. The clients run
on the same two cores as the daemon, so beyond two of them they mostly take
CPU from it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import UnixHTTPConnection, log, running_daemon

TARGET_RPS = 500


def main() -> None:
    args = _arguments()
    scratch = Path(tempfile.mkdtemp(prefix="ws-bench-req-"))
    try:
        _run(scratch, args.clients, args.seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,2,4",
                        help="comma-separated numbers of concurrent client processes")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of the load")
    return parser.parse_args()


def _run(scratch: Path, clients: str, seconds: float) -> None:
    home, project = scratch / "home", scratch / "project"
    env = {**os.environ, "WORKSPACE_HOME": str(home)}
    ws = [sys.executable, "-m", "workspace.cli.main"]
    with running_daemon([*ws, "serve"], env, home, scratch / "daemon.log"):
        (project / "data").mkdir(parents=True)
        (project / "data" / "a.csv").write_text("a,1\n")
        for step in (["init"], ["add", "data", "-d", "bench/req", "-m", "bench"]):
            subprocess.run([*ws, *step], cwd=project, env=env, check=True, capture_output=True)
        for count in (int(c) for c in clients.split(",")):
            log(f"{count} clients, {seconds:.0f} s of GET /v1/ls?ref=bench/req")
            with multiprocessing.Pool(count) as pool:
                results = pool.starmap(_client, [(home / "ws.sock", seconds)] * count)
            _report(count, [t for times in results for t in times], seconds)


def _client(socket_path: Path, seconds: float) -> list[float]:
    conn = UnixHTTPConnection(socket_path, timeout=10)
    times: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        conn.request("GET", "/v1/ls?ref=bench/req")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
        times.append(time.perf_counter() - started)
    conn.close()
    return times


def _report(clients: int, times: list[float], seconds: float) -> None:
    times.sort()
    rps = len(times) / seconds
    p50, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000
    verdict = "met" if rps >= TARGET_RPS else "NOT met"
    print(f"{clients} clients: {rps:5.0f} requests/s (target {TARGET_RPS}: {verdict}); "
          f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Dashboard pages at scale: server-side latency of each page on a 100,000-file dataset.

Run by hand (see bench/README.md)::

    python bench/bench_dashboard.py                   # 100,000 files x 1,000 versions
    python bench/bench_dashboard.py --files 20000 --versions 200 --events 20000 --runs 5

The data is ``bench_history``'s: a fresh ``WORKSPACE_HOME`` whose SQLite
database is filled by bulk inserts (one dataset ``bench/big``, version 1 adds
every file, each later version changes 5-15 of them; a chained audit log),
plus a CSV committed version by version through the CLI for line blame. The
real daemon (``ws serve --tcp``) then serves the dashboard; the bench logs in
through the login form like a browser and requests each page ``--runs`` times
after one warming request.

Server side is what the daemon's own ``workspace_http_request_duration_seconds``
histogram recorded for those requests (``/metrics`` is scraped before and
after each page: sum over count), i.e. from the request reaching the app to
the last byte of the page. The round trip over loopback is shown beside it
(median), and so is the peer in the same run: the API's full ``GET /v1/ls``
of the same version, what a page would cost without paging.
"""

from __future__ import annotations

import argparse
import os
import pwd
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_history import DATASET, LINES_DATASET, Bench, commit_csv, fill
from benchlib import BenchError, in_scratch, log, running_daemon

PASSWORD = "bench password for the dashboard"
TARGET = 0.100
HISTOGRAM = "workspace_http_request_duration_seconds"


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    route: str  # the route template the histogram labels it with
    path: str  # what is requested
    query: dict[str, str]
    admin: bool = False


@dataclass(frozen=True, slots=True)
class Timing:
    page: Page
    server: float  # mean seconds, from the daemon's histogram
    round_trip: float  # median seconds, loopback
    cpu: float  # the daemon's CPU seconds per request (all its threads)
    size: int


def pages(args: argparse.Namespace, hottest: str, middle: str, last: str) -> list[Page]:
    big, latest = DATASET, args.versions
    return [
        Page("datasets", "/ui/datasets", "/ui/datasets", {}),
        Page("versions, newest 100", "/ui/dataset", "/ui/dataset", {"name": big}),
        Page("versions, an older page", "/ui/dataset", "/ui/dataset",
             {"name": big, "below": str(max(2, latest // 2))}),
        Page("files, first page", "/ui/files", "/ui/files", {"ref": big}),
        Page("files, a middle page", "/ui/files", "/ui/files", {"ref": big, "after": middle}),
        Page("files, last page", "/ui/files", "/ui/files", {"ref": big, "before": last}),
        Page("files of version 1, first page", "/ui/files", "/ui/files", {"ref": f"{big}@1"}),
        Page("files, search 'shard' (1% match)", "/ui/files", "/ui/files",
             {"ref": big, "q": "shard"}),
        Page("files, search one file", "/ui/files", "/ui/files",
             {"ref": big, "q": last.rsplit("/", 1)[-1]}),
        Page("diff, adjacent versions", "/ui/diff", "/ui/diff",
             {"a": f"{big}@{latest - 1}", "b": f"{big}@{latest}"}),
        Page(f"diff, v1 -> v{latest}", "/ui/diff", "/ui/diff",
             {"a": f"{big}@1", "b": f"{big}@{latest}"}),
        Page("file history, the hottest file", "/ui/file", "/ui/file",
             {"ref": big, "file": hottest}),
        Page("line blame, cached", "/ui/lines", "/ui/lines",
             {"ref": LINES_DATASET, "file": "labels.csv"}),
        Page("audit, newest 100", "/ui/audit", "/ui/audit", {}, admin=True),
        Page("audit, one user, 1d", "/ui/audit", "/ui/audit", {"user": "ana", "since": "1d"},
             admin=True),
        Page("users", "/ui/admin/users", "/ui/admin/users", {}, admin=True),
    ]


class Dashboard:
    """A logged-in browser session and an admin bearer token for scraping /metrics."""

    def __init__(self, url: str, user: str, pid: int) -> None:
        self.pid = pid
        self.client = httpx.Client(base_url=url, timeout=600)
        form = self.client.get("/ui/login").text
        token = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        answer = self.client.post("/ui/login", data={"csrf": token, "name": user,
                                                     "password": PASSWORD})
        if answer.status_code != 303:
            raise BenchError(f"dashboard login answered {answer.status_code}: {answer.text}")
        login = httpx.post(f"{url}/v1/login", json={"name": user, "password": PASSWORD})
        self.bearer = {"Authorization": f"Bearer {login.json()['token']}"}

    def histogram(self, route: str) -> tuple[float, float]:
        text = self.client.get("/metrics", headers=self.bearer).text
        total = count = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.labels.get("route") != route or sample.labels.get("status") != "200":
                    continue
                if sample.name == f"{HISTOGRAM}_sum":
                    total += sample.value
                elif sample.name == f"{HISTOGRAM}_count":
                    count += sample.value
        return total, count

    def time(self, page: Page, runs: int) -> Timing:
        first = self.client.get(page.path, params=page.query)
        if first.status_code != 200:
            raise BenchError(f"{page.name}: {page.path} answered {first.status_code}")
        total0, count0 = self.histogram(page.route)
        trips, cpu0 = [], cpu_seconds(self.pid)
        for _ in range(runs):
            started = time.perf_counter()
            self.client.get(page.path, params=page.query).raise_for_status()
            trips.append(time.perf_counter() - started)
        cpu = (cpu_seconds(self.pid) - cpu0) / runs
        total1, count1 = self.histogram(page.route)
        if count1 - count0 != runs:
            raise BenchError(f"{page.name}: the histogram counted {count1 - count0} requests")
        return Timing(page, (total1 - total0) / runs, statistics.median(trips), cpu,
                      len(first.content))

    def full_listing(self, runs: int) -> tuple[float, int]:
        """The peer: the API's whole `GET /v1/ls` of the latest version (median, bytes)."""
        trips, size = [], 0
        for _ in range(runs + 1):
            started = time.perf_counter()
            answer = self.client.get("/v1/ls", params={"ref": DATASET}, headers=self.bearer)
            answer.raise_for_status()
            trips.append(time.perf_counter() - started)
            size = len(answer.content)
        return statistics.median(trips[1:]), size


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all threads), from /proc: what a page costs the
    daemon however many other processes compete for the CPUs (wall times swell with load)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def set_password(bench: Bench, user: str) -> None:
    done = subprocess.run([*bench.ws, "user", "passwd", user], input=f"{PASSWORD}\n{PASSWORD}\n",
                          text=True, capture_output=True, cwd=bench.project, env=bench.env)
    if done.returncode != 0:
        raise BenchError(f"ws user passwd failed: {done.stderr}")


def run(args: argparse.Namespace, root: Path) -> tuple[list[Timing], tuple[float, int]]:
    home, project = root / "ws-home", root / "project"
    home.mkdir(mode=0o700)
    project.mkdir()
    history = fill(f"sqlite:///{home / 'workspace.db'}", args)
    ordered = sorted(row["path"] for row in history.entries if row["removed_in"] is None)
    hottest = history.changes.most_common(1)[0][0]
    bench = Bench(args, home, project)
    port = args.port
    bench.env["WORKSPACE_TCP"] = f"127.0.0.1:{port}"
    with running_daemon([*bench.ws, "serve"], bench.env, home, root / "ws-serve.log") as proc:
        bench.ws_run("init")
        commit_csv(bench, args.lines, args.line_versions)
        user = pwd.getpwuid(os.geteuid()).pw_name  # the daemon's first admin
        set_password(bench, user)
        dashboard = Dashboard(f"http://127.0.0.1:{port}", user, proc.pid)
        timings = []
        for page in pages(args, hottest, ordered[len(ordered) // 2], ordered[-1]):
            timings.append(dashboard.time(page, args.runs))
            log(f"{page.name}: {timings[-1].server * 1000:.1f} ms server side")
        return timings, dashboard.full_listing(max(3, args.runs // 3))


def report(args: argparse.Namespace, timings: list[Timing], peer: tuple[float, int],
           load: float) -> str:
    width = max(len(t.page.name) for t in timings)
    lines = [
        f"data: {DATASET} = {args.files:,} files x {args.versions:,} versions (SQLite); "
        f"{args.events:,} audit events; line blame: {args.lines:,}-line CSV in "
        f"{args.line_versions} versions",
        f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end (shared with other work: figures are noisy); "
        f"{args.runs} runs per page after one warming request",
        "server side = the daemon's request-duration histogram (mean); round trip = "
        "loopback TCP (median); CPU = the daemon's CPU time per request (/proc, 10 ms ticks "
        "over all runs)", "",
        f"{'page':<{width}} | server side | round trip | daemon CPU | HTML     | < 100 ms?",
        "-" * (width + 63)]
    for t in timings:
        met = "yes" if t.server < TARGET else "MISSED"
        lines.append(f"{t.page.name:<{width}} | {t.server * 1000:8.1f} ms | "
                     f"{t.round_trip * 1000:7.1f} ms | {t.cpu * 1000:7.1f} ms | "
                     f"{t.size / 1024:5.0f} KiB | {met}")
    first = next(t for t in timings if t.page.name == "files, first page")
    lines += ["", f"peer, same run: GET /v1/ls of all {args.files:,} files (no paging): "
              f"{peer[0] * 1000:.0f} ms round trip, {peer[1] / 1e6:.1f} MB; the first files "
              f"page is {peer[0] / first.round_trip:.0f}x faster"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--files", type=int, default=100_000, help="files in bench/big")
    p.add_argument("--versions", type=int, default=1_000, help="versions of bench/big")
    p.add_argument("--events", type=int, default=200_000, help="audit events")
    p.add_argument("--lines", type=int, default=10_000, help="lines of the CSV")
    p.add_argument("--line-versions", type=int, default=10, help="versions of the CSV")
    p.add_argument("--runs", type=int, default=15, help="timed requests per page")
    p.add_argument("--port", type=int, default=18471, help="the daemon's TCP port")
    p.add_argument("--ws", help="the ws command (default: the ws beside this Python)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--scratch-parent", type=Path, default=None)
    args = p.parse_args(argv)
    args.cli_runs = 1  # what bench_history's Bench expects
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load = os.getloadavg()[0]
    return in_scratch("ws-bench-dashboard-", args.scratch_parent, args.keep,
                      lambda root: report(args, *run(args, root), load))


if __name__ == "__main__":
    sys.exit(main())

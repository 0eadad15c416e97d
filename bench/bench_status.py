#!/usr/bin/env python3
"""``ws status`` with the daemon's watcher warm, against ``dvc status``, on 100,000 files.

Run by hand (see bench/README.md). The same tree (100,000 small files of
random bytes in 1,000 directories) is added to workspace and, as an identical
copy, to DVC 3 (in ``bench/.venv-dvc``, created by bench_vs_dvc.py if
missing). Then, with nothing changed since:

- ``GET /v1/status`` over the daemon's socket (server side: what the daemon
  spends, plus one HTTP round trip), once the watcher has reconciled the
  path, i.e. the answer says ``"scanned": false``;
- ``ws status`` end to end (the CLI process, its start-up included);
- ``dvc status`` end to end in the same run;
- for context: the same request with 10 files edited (the watcher stats
  only those), and with the watcher turned off (a full scan).

Targets (issue 5): server side under 100 ms, and at least 20x faster than
``dvc status``. Wall clock, warm page cache, median of several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_vs_dvc import BENCH_DIR, Layout, Options, init_dvc, make_tools, scratch_parent
from benchlib import (
    BenchError,
    copy_tree,
    log,
    remove_tree,
    running_daemon,
    timed_get,
)

DIRS = 1_000
FILE_BYTES = 32
TARGET_SERVER_S = 0.100
TARGET_RATIO = 20.0
WARM_TIMEOUT = 300.0
EDITED = 10
ISSUE12_RATIO = {10_000: 5.0, 100_000: 50.0}
"""Issue 12's end-to-end targets against `dvc status`, by tree size."""


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    seconds: float
    note: str = ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--files", type=int, default=100_000, help="number of files")
    p.add_argument("--runs", type=int, default=20, help="timed runs of each ws request")
    p.add_argument("--dvc-runs", type=int, default=3, help="timed runs of dvc status")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--dvc-venv", type=Path, default=BENCH_DIR / ".venv-dvc")
    p.add_argument("--ws", help="the ws command (default: `ws` on PATH, else python -m)")
    p.add_argument("--link-mode", choices=("hardlink", "auto", "copy"), default="hardlink",
                   help="workspace's link_mode (default: hardlink, as DVC's cache.type; as "
                   "root that means the watcher watches every linked file's inode)")
    return p.parse_args(argv)


def write_tree(root: Path, files: int) -> None:
    dirs = [root / f"d{i:04d}" for i in range(min(files, DIRS))]
    for d in dirs:
        d.mkdir(parents=True)
    for i in range(files):
        (dirs[i % len(dirs)] / f"f{i:06d}.bin").write_bytes(os.urandom(FILE_BYTES))


def get_status(socket_path: Path, project: Path) -> tuple[float, dict[str, Any]]:
    """One ``GET /v1/status`` over the Unix socket: (seconds, the first tracked entry)."""
    seconds, body = timed_get(socket_path, "/v1/status", {"path": str(project)})
    return seconds, json.loads(body)["tracked"][0]


def wait_warm(socket_path: Path, project: Path) -> float:
    """Poll until the watcher answers from memory; returns how long that took."""
    start = time.perf_counter()
    while time.perf_counter() - start < WARM_TIMEOUT:
        _, entry = get_status(socket_path, project)
        if entry.get("scanned") is False:
            return time.perf_counter() - start
        if entry.get("watched") is False:
            raise BenchError(f"the daemon does not watch the tree: {entry.get('reason')}")
        time.sleep(0.5)
    raise BenchError(f"the watcher did not warm up within {WARM_TIMEOUT:.0f}s")


def median_of(runs: int, timed: Callable[[], float]) -> float:
    return statistics.median(timed() for _ in range(runs))


def server_side(socket_path: Path, project: Path, runs: int, clean: bool) -> float:
    def once() -> float:
        seconds, entry = get_status(socket_path, project)
        if entry.get("scanned") is not False or entry.get("clean") is not clean:
            raise BenchError(f"unexpected status entry: {json.dumps(entry)[:300]}")
        return seconds

    return median_of(runs, once)


def edit_files(data: Path, count: int) -> None:
    """As a user would after ``ws unlock``: a private copy with new bytes."""
    for i in range(count):
        path = data / f"d{i:04d}" / f"f{i:06d}.bin"
        tmp = path.with_name(path.name + ".edit")
        tmp.write_bytes(os.urandom(FILE_BYTES))
        os.replace(tmp, path)


def bench(args: argparse.Namespace, layout: Layout) -> list[Result]:
    opts = Options(args.files, 1, args.keep, False, args.dvc_venv.absolute(),
                   tuple(args.ws.split()) if args.ws else None, None, args.link_mode)
    tools = make_tools(opts, layout)
    t0 = time.perf_counter()
    write_tree(layout.ws_a / "data", args.files)
    copy_tree(layout.ws_a / "data", layout.dvc_a / "data")
    os.sync()
    log(f"{args.files:,} files written and copied in {time.perf_counter() - t0:.1f}s")
    init_dvc(tools, layout.dvc_a)
    log("dvc add data (untimed)")
    tools.dvc_run(layout.dvc_a, "add", "data")
    results = []
    socket_path = layout.ws_home / "ws.sock"
    serve_log = layout.root / "ws-serve.log"
    with running_daemon([*tools.ws, "serve"], tools.ws_env, layout.ws_home, serve_log):
        tools.ws_run(layout.ws_a, "init")
        log("ws add data (untimed)")
        tools.ws_run(layout.ws_a, "add", "data", "-d", "bench/status", "-m", "bench")
        log(f"watcher warm after {wait_warm(socket_path, layout.ws_a):.1f}s more")
        results.append(Result("ws status, server side (GET /v1/status)",
                              server_side(socket_path, layout.ws_a, args.runs, True)))
        results.append(Result("ws status, end to end (CLI)",
                              median_of(max(5, args.runs // 4),
                                        lambda: tools.ws_run(layout.ws_a, "status"))))
        edit_files(layout.ws_a / "data", EDITED)
        results.append(Result(f"ws status, server side, {EDITED} files edited",
                              server_side(socket_path, layout.ws_a, args.runs, False),
                              "stats and hashes only the edited files"))
    log(f"dvc status, {args.dvc_runs} runs")
    results.append(Result("dvc status, end to end",
                          median_of(args.dvc_runs, lambda: tools.dvc_run(layout.dvc_a, "status"))))
    no_watch = {**tools.ws_env, "WORKSPACE_WATCH": "false"}
    with running_daemon([*tools.ws, "serve"], no_watch, layout.ws_home, serve_log):
        results.append(Result("ws status, server side, watcher off (full scan)",
                              median_of(3, lambda: get_status(socket_path, layout.ws_a)[0]),
                              f"{EDITED} files edited: they are hashed too"))
    return results


def report(args: argparse.Namespace, results: list[Result], load_start: float) -> str:
    by_name = {r.name: r.seconds for r in results}
    server = by_name["ws status, server side (GET /v1/status)"]
    cli = by_name["ws status, end to end (CLI)"]
    dvc = by_name["dvc status, end to end"]
    lines = [f"data: {args.files:,} files of {FILE_BYTES} bytes in {min(args.files, DIRS):,} "
             f"directories; warm page cache; medians of wall-clock times; workspace "
             f"link_mode {args.link_mode} as uid {os.geteuid()}",
             f"machine: {os.cpu_count()} CPUs, load average {load_start:.2f} at start, "
             f"{os.getloadavg()[0]:.2f} at end", ""]
    width = max(len(r.name) for r in results)
    lines += [f"{r.name:<{width}}  {r.seconds * 1000:10.1f} ms  {r.note}" for r in results]
    lines += ["", "targets:",
              _check("server side under 100 ms", server < TARGET_SERVER_S,
                     f"{server * 1000:.1f} ms"),
              _check("server side >= 20x faster than dvc status", dvc / server >= TARGET_RATIO,
                     f"{dvc / server:.0f}x"),
              _check("end to end (CLI) >= 20x faster than dvc status",
                     dvc / cli >= TARGET_RATIO, f"{dvc / cli:.1f}x"),
              _check("end to end (CLI) under 100 ms", cli < TARGET_SERVER_S,
                     f"{cli * 1000:.0f} ms")]
    wanted = ISSUE12_RATIO.get(args.files)
    if wanted is not None:
        lines.append(_check(f"end to end (CLI) >= {wanted:.0f}x faster than dvc status "
                            f"(issue 12, {args.files:,} files)", dvc / cli >= wanted,
                            f"{dvc / cli:.1f}x"))
    return "\n".join(lines)


def _check(what: str, met: bool, value: str) -> str:
    return f"  {'met ' if met else 'MISSED'}  {what}: {value}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="ws-bench-status-", dir=scratch_parent(None)))
    layout = Layout(root.resolve())
    layout.ws_a.mkdir()
    layout.dvc_a.mkdir()
    load_start = os.getloadavg()[0]
    try:
        print(report(args, bench(args, layout), load_start))
        return 0
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    finally:
        if args.keep:
            log(f"kept {layout.root}")
        else:
            remove_tree(layout.root)


if __name__ == "__main__":
    sys.exit(main())

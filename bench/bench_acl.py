"""Object ACLs (issue 9): what the kernel-enforced read access costs.

Two measurements, ratios in one run. Run by hand, as root (it creates Unix users):

    python bench/bench_acl.py                              # 10,000 and 100,000 files
    python bench/bench_acl.py --files 2000 --revoke-files 20000 --json

1. **First checkout by a new user**: ``ws get`` of a 10,000-file dataset
   (4 KiB files) into a fresh workspace, wall clock of the whole CLI process.
   *With ACL work*: a service-mode daemon; each run is a user who never had
   the dataset, so every object gets a new ``user:UID:r`` entry (read, add,
   write) and an index row before it is linked. *Without*: a single-user
   daemon (its objects carry no ACL: the daemon is their only user) checking
   out the same files into a fresh directory. Runs alternate between the two,
   median of ``--runs``. Target: at most 1.3x.
2. **Revoke of a user who had 100,000 objects** (64-byte files): time from
   ``ws role revoke`` until the daemon's queue is empty (the audit event's
   own ``seconds`` too), while another user's process sends ``GET
   /v1/datasets`` back to back; its latencies during the revoke are compared
   with the same loop on the idle daemon (p50, p99, max). Target: < 10 s.

Every figure depends on the load of the machine: it is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
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

from benchlib import BenchError, log, write_small_tree  # noqa: E402

from tests.support.daemon import Daemon, as_user, give  # noqa: E402
from tests.support.runtime import Identity, Runtime, make_runtime  # noqa: E402
from tests.support.service import ServiceDaemon  # noqa: E402

DATASET = "bench/acl"
_LOOP = r"""
import http.client, json, socket, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(path)
samples, end = [], time.time() + seconds
while time.time() < end:
    conn = Conn("ws", timeout=60)
    started = time.time()
    conn.request("GET", "/v1/datasets")
    response = conn.getresponse(); response.read(); conn.close()
    assert response.status == 200, response.status
    samples.append((started, time.time() - started))
print(json.dumps(samples))
"""


@dataclass(frozen=True)
class Options:
    files: int
    revoke_files: int
    runs: int
    as_json: bool


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000, help="files of the checkout")
    parser.add_argument("--revoke-files", type=int, default=100_000,
                        help="objects the revoked user had")
    parser.add_argument("--runs", type=int, default=3, help="checkouts of each kind")
    parser.add_argument("--json", action="store_true", dest="as_json", help="print JSON")
    args = parser.parse_args(argv)
    return Options(args.files, args.revoke_files, args.runs, args.as_json)


def service_daemon(runtime: Runtime, name: str) -> ServiceDaemon:
    svc = runtime.user(name)
    home, run_dir = runtime.make_dir(svc, f"{name}-home"), runtime.make_dir(svc, f"{name}-run")
    env = {"WORKSPACE_MODE": "service", "HOME": str(runtime.scratch),
           "WORKSPACE_ADMIN": svc.name, "WORKSPACE_LOG_LEVEL": "warning"}
    return ServiceDaemon(runtime, svc, home, f"sqlite:///{home / 'workspace.db'}",
                         extra_env=env, run_dir=run_dir).start(timeout=120)


def cli(daemon: Daemon, who: Identity, *args: str, cwd: Path) -> float:
    argv = [daemon.runtime.python, "-m", "workspace.cli.main", *args]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=daemon.env(), capture_output=True, text=True,
                          **as_user(daemon.runtime, who))
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"ws {' '.join(args)} as {who.name}: {done.stderr[-2000:]}")
    return seconds


def dataset_of(daemon: Daemon, runtime: Runtime, author: Identity, files: int,
               *, tiny: bool = False) -> None:
    project = runtime.make_dir(author, "author")
    cli(daemon, author, "init", cwd=project)
    if tiny:
        write_tiny_tree(project / "data", files)
    else:
        write_small_tree(project / "data", files)
    give(project / "data", author)
    log(f"{author.name} adds {files:,} files")
    cli(daemon, author, "add", "data", "-d", DATASET, "-m", "bench", cwd=project)


def write_tiny_tree(root: Path, count: int) -> None:
    for i in range(count):
        path = root / f"d{i % 300:03d}" / f"f{i:06d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(64))


def first_checkouts(opts: Options, runtime: Runtime) -> dict[str, Any]:
    service = service_daemon(runtime, "bacl-svc")
    solo_user = runtime.user("bacl-solo")
    solo_home = runtime.make_dir(solo_user, "solo-home")
    solo = Daemon(runtime, solo_user, solo_home, f"sqlite:///{solo_home / 'workspace.db'}",
                  extra_env={"WORKSPACE_LOG_LEVEL": "warning"}).start(timeout=120)
    try:
        author = runtime.user("bacl-author")
        cli(service, service.owner, "user", "add", author.name, cwd=runtime.scratch)
        cli(service, service.owner, "role", "grant", author.name, "writer", "*",
            cwd=runtime.scratch)
        dataset_of(service, runtime, author, opts.files)
        dataset_of(solo, runtime, solo_user, opts.files)
        with_acl, without = [], []
        for run in range(opts.runs):
            reader = runtime.user(f"bacl-r{run}")
            cli(service, service.owner, "user", "add", reader.name, cwd=runtime.scratch)
            cli(service, service.owner, "role", "grant", reader.name, "reader", "*",
                cwd=runtime.scratch)
            with_acl.append(fresh_get(service, runtime, reader))
            without.append(fresh_get(solo, runtime, solo_user))
            log(f"run {run + 1}: with ACLs {with_acl[-1]:.2f} s, without {without[-1]:.2f} s")
    finally:
        service.stop()
        solo.stop()
    return {"files": opts.files, "with_acl_runs": with_acl, "without_runs": without,
            "with_acl": statistics.median(with_acl), "without": statistics.median(without)}


def fresh_get(daemon: Daemon, runtime: Runtime, who: Identity) -> float:
    project = runtime.make_dir(who, "reader")
    cli(daemon, who, "init", cwd=project)
    return cli(daemon, who, "get", DATASET, "data", cwd=project)


def revoke(opts: Options, runtime: Runtime) -> dict[str, Any]:
    daemon = service_daemon(runtime, "bacl-rsvc")
    try:
        author, reader = runtime.user("bacl-author"), runtime.user("bacl-big")
        for who, role in ((author, "writer"), (reader, "reader")):
            cli(daemon, daemon.owner, "user", "add", who.name, cwd=runtime.scratch)
            cli(daemon, daemon.owner, "role", "grant", who.name, role, "*", cwd=runtime.scratch)
        dataset_of(daemon, runtime, author, opts.revoke_files, tiny=True)
        log(f"{reader.name} checks out {opts.revoke_files:,} files")
        fresh_get(daemon, runtime, reader)
        idle = latencies(daemon, author, 8.0)
        return {"objects": opts.revoke_files, **timed_revoke(daemon, runtime, author, reader),
                "idle": summary(idle)}
    finally:
        daemon.stop()


def timed_revoke(daemon: ServiceDaemon, runtime: Runtime, author: Identity,
                 reader: Identity) -> dict[str, Any]:
    found: dict[str, Any] = {}
    loop = threading.Thread(target=lambda: found.update(samples=latencies(daemon, author, 40)))
    loop.start()
    time.sleep(3)
    started = time.time()
    command = cli(daemon, daemon.owner, "role", "revoke", reader.name, "reader", "*",
                  cwd=runtime.scratch)
    while queued(daemon) is not False:
        time.sleep(0.05)
    ended = time.time()
    loop.join()
    during = [s for at, s in found["samples"] if started <= at <= ended]
    return {"command_seconds": command, "until_queue_empty": ended - started,
            "audit_seconds": audit_seconds(daemon), "during": summary(during)}


def queued(daemon: ServiceDaemon) -> bool | None:
    """True while a holding is queued (None before the worker has seen the change)."""
    with sqlite3.connect(f"file:{daemon.home / 'workspace.db'}?mode=ro", uri=True) as conn:
        dirty = conn.execute("SELECT count(*) FROM acl_holdings WHERE dirty").fetchone()[0]
        done = conn.execute("SELECT count(*) FROM audit_events WHERE action = "
                            "'acl:objects:revoke'").fetchone()[0]
    return True if dirty else (False if done else None)


def audit_seconds(daemon: ServiceDaemon) -> float:
    with sqlite3.connect(f"file:{daemon.home / 'workspace.db'}?mode=ro", uri=True) as conn:
        (detail,) = conn.execute("SELECT detail FROM audit_events WHERE action = "
                                 "'acl:objects:revoke'").fetchone()
    return float(json.loads(detail)["seconds"])


def latencies(daemon: Daemon, who: Identity, seconds: float) -> list[tuple[float, float]]:
    done = subprocess.run([daemon.runtime.python, "-c", _LOOP, str(daemon.socket), str(seconds)],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
                          **as_user(daemon.runtime, who))
    if done.returncode != 0:
        raise BenchError(f"request loop failed: {done.stderr[-2000:]}")
    return [(at, s) for at, s in json.loads(done.stdout)]


def summary(samples: Sequence[Any]) -> dict[str, float]:
    values = sorted(s[1] if isinstance(s, list | tuple) else s for s in samples)
    if not values:
        return {"requests": 0}
    return {"requests": len(values), "p50_ms": 1000 * values[len(values) // 2],
            "p99_ms": 1000 * values[min(len(values) - 1, int(len(values) * 0.99))],
            "max_ms": 1000 * values[-1]}


def report(result: dict[str, Any]) -> None:
    first = result["checkout"]
    print(f"first checkout of {first['files']:,} files by a new user, median of "
          f"{len(first['with_acl_runs'])}:")
    print(f"  with ACL work (service mode): {first['with_acl']:.2f} s  "
          f"(runs {', '.join(f'{s:.2f}' for s in first['with_acl_runs'])})")
    print(f"  without (single-user daemon): {first['without']:.2f} s  "
          f"(runs {', '.join(f'{s:.2f}' for s in first['without_runs'])})")
    print(f"  ratio: {first['with_acl'] / first['without']:.2f}x  (target: at most 1.3x)")
    rev = result["revoke"]
    print(f"revoke of a user who had {rev['objects']:,} objects:")
    print(f"  `ws role revoke` returned in {rev['command_seconds']:.2f} s; queue empty "
          f"{rev['until_queue_empty']:.2f} s after it started; the ACL work itself "
          f"{rev['audit_seconds']:.2f} s (audit event)  (target: < 10 s)")
    idle, during = rev["idle"], rev["during"]
    print(f"  another user's GET /v1/datasets, idle: p50 {idle['p50_ms']:.1f} ms, p99 "
          f"{idle['p99_ms']:.1f} ms ({idle['requests']} requests)")
    print(f"  ... during the revoke: p50 {during.get('p50_ms', 0):.1f} ms, p99 "
          f"{during.get('p99_ms', 0):.1f} ms, max {during.get('max_ms', 0):.1f} ms "
          f"({during['requests']} requests); p99 ratio "
          f"{during.get('p99_ms', 0) / idle['p99_ms']:.2f}x")


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    if os.geteuid() != 0:
        print("run as root: the benchmark creates Unix users", file=sys.stderr)
        return 2
    runtime = make_runtime()
    load_before = os.getloadavg()
    try:
        result = {"checkout": first_checkouts(opts, runtime), "revoke": revoke(opts, runtime)}
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    result["machine"] = (f"{os.cpu_count()} CPUs; load average before "
                         f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
                         "(shared with other work)")
    if opts.as_json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
        print(f"machine: {result['machine']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

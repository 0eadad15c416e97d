#!/usr/bin/env python3
"""Push and pull against DVC on the same local S3 server, and peak memory on a huge file.

Run by hand (see bench/README.md). Starts ``moto_server`` on a free loopback
port, writes 10,000 x 4 KiB files and one 1 GiB file (sizes are options),
then, untimed, adds them to a workspace daemon (``ws add``) and to a DVC
project (``dvc add``). Timed, each as the CLI command a user would type:

- push: ``ws push --all`` vs ``dvc push`` (each to its own bucket);
- pull into an empty store: a second daemon (its own WORKSPACE_HOME)
  ``ws pull`` of both datasets, vs ``dvc pull`` in a fresh project with the
  ``.dvc`` files and an empty cache.

Then, with ``--rss-gib N`` (default 10), one N GiB file is pushed to and
pulled from a remote (``--rss-remote file`` by default, a directory on the
same disk, so the machine's time goes to moving bytes rather than to the
Python S3 server; ``s3`` uses the server) and the daemon's peak RSS
(``VmHWM``) is read before and after. Ratios are DVC's time over
workspace's: above 1 means workspace is faster.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from bench_vs_dvc import find_ws
from benchlib import GIB, BenchError, log, run, running_daemon, write_big_file, write_small_tree

BENCH_DIR = Path(__file__).resolve().parent
TARGET = 3.0
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": "us-east-1"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--small-files", type=int, default=10_000)
    p.add_argument("--big-gib", type=float, default=1.0)
    p.add_argument("--rss-gib", type=float, default=10.0, help="0 skips the memory run")
    p.add_argument("--rss-remote", choices=["file", "s3"], default="file")
    p.add_argument("--dvc-venv", type=Path, default=BENCH_DIR / ".venv-dvc-s3")
    p.add_argument("--skip-dvc", action="store_true", help="time workspace only")
    p.add_argument("--only-rss", action="store_true", help="only the memory run")
    return p.parse_args(argv)


@contextmanager
def moto() -> Iterator[str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if time.monotonic() > deadline:
                raise BenchError("moto_server did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, **{k.lower(): v for k, v in CREDENTIALS.items()
                                                 if k != "AWS_DEFAULT_REGION"},
                 region_name="us-east-1").create_bucket(Bucket=name)


def ensure_dvc(venv: Path) -> str:
    dvc = venv / "bin" / "dvc"
    if not dvc.exists():
        log(f"installing dvc[s3] into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "dvc[s3]>=3,<4"],
                       check=True)
    return str(dvc)


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Ws:
    """Two daemons (the pusher, and an empty one that pulls), driven through the CLI."""

    def __init__(self, root: Path, endpoint: str) -> None:
        self.cmd, extra = find_ws()
        self.env = {**os.environ, **extra, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}
        for name in ("WORKSPACE_SOCKET", "WORKSPACE_CONFIG", "WORKSPACE_DATABASE_URL"):
            self.env.pop(name, None)
        self.root = root

    def env_for(self, home: Path) -> dict[str, str]:
        return {**self.env, "WORKSPACE_HOME": str(home)}

    def serve(self, home: Path) -> object:
        return running_daemon([*self.cmd, "serve"], self.env_for(home), home,
                              home.parent / f"{home.name}.log")

    def run(self, home: Path, cwd: Path, *args: str) -> float:
        return run([*self.cmd, *args], cwd=cwd, env=self.env_for(home))


def bench_ws(ws: Ws, data: Path, endpoint: str) -> tuple[float, float]:
    make_bucket(endpoint, "ws-bench")
    home_a, home_b, empty = ws.root / "ws-home-a", ws.root / "ws-home-b", ws.root / "ws-b"
    empty.mkdir()
    with ws.serve(home_a):  # type: ignore[attr-defined]
        ws.run(home_a, data, "init")
        ws.run(home_a, data, "add", "small", "-d", "bench/small", "-m", "small")
        ws.run(home_a, data, "add", "big.bin", "-d", "bench/big", "-m", "big")
        ws.run(home_a, data, "remote", "add", "s3", "s3://ws-bench/ws")
        os.sync()
        log("ws push")
        push = ws.run(home_a, data, "push", "--all")
    with ws.serve(home_b):  # type: ignore[attr-defined]
        ws.run(home_b, empty, "remote", "add", "s3", "s3://ws-bench/ws")
        log("ws pull")
        pull = ws.run(home_b, empty, "pull", "bench/small") + ws.run(
            home_b, empty, "pull", "bench/big")
    return push, pull


def bench_dvc(dvc: str, root: Path, data: Path, endpoint: str) -> tuple[float, float]:
    make_bucket(endpoint, "dvc-bench")
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "DVC_NO_ANALYTICS": "1",
           "DVC_GLOBAL_CONFIG_DIR": str(root / "dvc-global"),
           "DVC_SYSTEM_CONFIG_DIR": str(root / "dvc-system"),
           "DVC_SITE_CACHE_DIR": str(root / "dvc-site")}
    project, fresh = root / "dvc-a", root / "dvc-b"
    shutil.copytree(data / "small", project / "small")
    shutil.copyfile(data / "big.bin", project / "big.bin")
    for where in (project, fresh):
        where.mkdir(exist_ok=True)
        run([dvc, "init", "--no-scm", "-q"], cwd=where, env=env)
        run([dvc, "remote", "add", "-d", "s3", "s3://dvc-bench/dvc"], cwd=where, env=env)
        run([dvc, "remote", "modify", "s3", "endpointurl", endpoint], cwd=where, env=env)
    run([dvc, "add", "small", "big.bin"], cwd=project, env=env)
    os.sync()
    log("dvc push")
    push = run_until_done([dvc, "push"], cwd=project, env=env)
    for name in ("small.dvc", "big.bin.dvc"):
        shutil.copyfile(project / name, fresh / name)
    log("dvc pull")
    pull = run_until_done([dvc, "pull"], cwd=fresh, env=env)
    return push, pull


def run_until_done(argv: list[str], *, cwd: Path, env: dict[str, str], tries: int = 3) -> float:
    """Seconds until the command succeeded, failed attempts included (DVC's multipart
    uploads sometimes fail against the loaded server; running it again resumes, as a
    user would)."""
    spent = 0.0
    for attempt in range(1, tries + 1):
        start = time.perf_counter()
        try:
            run(argv, cwd=cwd, env=env)
            return spent + time.perf_counter() - start
        except BenchError as exc:
            spent += time.perf_counter() - start
            log(f"attempt {attempt} of `{' '.join(argv[-1:])}` failed: "
                f"{str(exc).splitlines()[-1][:200]}")
    raise BenchError(f"{argv} failed {tries} times")


def bench_rss(ws: Ws, size: int, remote: str, endpoint: str) -> dict[str, float]:
    """Peak RSS of the daemon before and after pushing, then pulling, one huge file."""
    home_a, home_b = ws.root / "rss-home-a", ws.root / "rss-home-b"
    project, empty = ws.root / "rss-a", ws.root / "rss-b"
    project.mkdir()
    empty.mkdir()
    write_big_file(project / "huge.bin", size)
    if remote == "s3":
        make_bucket(endpoint, "rss-bench")
        url = "s3://rss-bench/ws"
    else:
        url = f"file://{ws.root / 'rss-remote'}"
    figures: dict[str, float] = {}
    with ws.serve(home_a):  # type: ignore[attr-defined]
        ws.run(home_a, project, "init")
        ws.run(home_a, project, "add", "huge.bin", "-d", "bench/huge", "-m", "huge")
        ws.run(home_a, project, "remote", "add", "r", url)
    # A fresh daemon for the push: hashing the file at `ws add` maps it, and those
    # file-backed pages would already sit in the peak (VmHWM) before the push starts.
    with ws.serve(home_a) as proc:  # type: ignore[attr-defined]
        figures["push: peak RSS before (MiB)"] = peak_rss_mib(proc.pid)
        figures["push: seconds"] = ws.run(home_a, project, "push", "bench/huge")
        figures["push: peak RSS after (MiB)"] = peak_rss_mib(proc.pid)
    (project / "huge.bin").unlink()
    with ws.serve(home_b) as proc:  # type: ignore[attr-defined]
        ws.run(home_b, empty, "remote", "add", "r", url)
        figures["pull: peak RSS before (MiB)"] = peak_rss_mib(proc.pid)
        figures["pull: seconds"] = ws.run(home_b, empty, "pull", "bench/huge")
        figures["pull: peak RSS after (MiB)"] = peak_rss_mib(proc.pid)
    return figures


def compare(opts: argparse.Namespace, ws: Ws, root: Path, endpoint: str) -> None:
    data = root / "data"
    write_small_tree(data / "small", opts.small_files)
    write_big_file(data / "big.bin", int(opts.big_gib * GIB))
    ws_push, ws_pull = bench_ws(ws, data, endpoint)
    print(f"{'operation':<28}{'workspace s':>12}{'dvc s':>10}{'dvc/ws':>9}{'target':>8}")
    if opts.skip_dvc:
        print(f"{'push':<28}{ws_push:>12.2f}\n{'pull (empty store)':<28}{ws_pull:>12.2f}")
        return
    dvc_push, dvc_pull = bench_dvc(ensure_dvc(opts.dvc_venv), root, data, endpoint)
    for name, w, d in (("push", ws_push, dvc_push), ("pull (empty store)", ws_pull, dvc_pull)):
        print(f"{name:<28}{w:>12.2f}{d:>10.2f}{d / w:>8.2f}x{TARGET:>7.1f}x")


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average at start {load[0]:.1f} {load[1]:.1f} "
          f"{load[2]:.1f} (shared with other work: read ratios, not absolute times)")
    root = Path(tempfile.mkdtemp(prefix="bench-remote-", dir=Path.cwd()))
    try:
        with moto() as endpoint:
            ws = Ws(root, endpoint)
            if not opts.only_rss:
                compare(opts, ws, root, endpoint)
            if opts.rss_gib > 0:
                rss = bench_rss(ws, int(opts.rss_gib * GIB), opts.rss_remote, endpoint)
                print(f"moving one {opts.rss_gib:g} GiB file ({opts.rss_remote} remote):")
                for name, value in rss.items():
                    print(f"  {name:<30}{value:>10.1f}")
        load = os.getloadavg()
        print(f"load average at end {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

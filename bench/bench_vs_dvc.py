#!/usr/bin/env python3
"""Workspace against DVC's shared cache: add, checkout, no-op status and disk use.

Run by hand (see bench/README.md). Every operation is one CLI command run as a
subprocess, as a user would type it, timed by wall clock. Both tools run in the
same process on identical copies of the same random data, one after the other,
with a warm page cache (nothing is dropped; dirty pages are flushed with sync
before any timing so background writeback does not land inside one tool's
measurement). The ratio is DVC's time over workspace's: above 1 means workspace
is faster.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import (
    GIB,
    SMALL_DIRS,
    SMALL_FILE_BYTES,
    BenchError,
    Cmd,
    copy_tree,
    du_total,
    log,
    remove_tree,
    run,
    running_daemon,
    verify_tree,
    wait_idle,
    write_big_file,
    write_small_tree,
)
from report import Row, as_json, as_table

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
STATUS_RUNS = 3
TARGET_ADD = 3.0
TARGET_CHECKOUT = 3.0
TARGET_STATUS = 5.0


@dataclass(frozen=True, slots=True)
class Options:
    small_files: int
    big_bytes: int
    keep: bool
    json: bool
    dvc_venv: Path
    ws: Cmd | None
    scratch_parent: Path | None
    link_mode: str


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each tool's projects live inside the scratch directory."""

    root: Path

    @property
    def ws_home(self) -> Path:
        return self.root / "ws-home"

    @property
    def ws_a(self) -> Path:
        return self.root / "ws-a"

    @property
    def ws_b(self) -> Path:
        return self.root / "ws-b"

    @property
    def dvc_a(self) -> Path:
        return self.root / "dvc-a"

    @property
    def dvc_b(self) -> Path:
        return self.root / "dvc-b"

    @property
    def dvc_home(self) -> Path:
        return self.root / "dvc-home"


@dataclass(frozen=True, slots=True)
class Tools:
    """The two command lines and their environments."""

    ws: Cmd
    ws_env: dict[str, str]
    dvc: Cmd
    dvc_env: dict[str, str]
    daemon_pid: int | None = None

    def ws_run(self, cwd: Path, *args: str) -> float:
        """The command's seconds; then, untimed, until the daemon is idle again (so its
        background work after a command is in no timing, DVC's or its own)."""
        seconds = run([*self.ws, *args], cwd=cwd, env=self.ws_env)
        if self.daemon_pid is not None:
            wait_idle(self.daemon_pid)
        return seconds

    def dvc_run(self, cwd: Path, *args: str) -> float:
        return run([*self.dvc, *args], cwd=cwd, env=self.dvc_env)


def parse_args(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--small-files", type=int, default=10_000, help="number of 4 KiB files")
    p.add_argument("--big-gib", type=float, default=1.0, help="size of the big file in GiB")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument(
        "--dvc-venv",
        type=Path,
        default=BENCH_DIR / ".venv-dvc",
        help="virtualenv holding DVC 3.x (created if missing)",
    )
    p.add_argument("--ws", help="the ws command (default: `ws` on PATH, else python -m)")
    p.add_argument(
        "--scratch-parent",
        type=Path,
        help="where to make the scratch directory (default: the temp dir if it "
        "is on the same filesystem as the working directory, else the "
        "working directory)",
    )
    p.add_argument(
        "--link-mode",
        choices=("hardlink", "auto", "copy"),
        default="hardlink",
        help="workspace's link_mode (default: hardlink, as DVC's cache.type here; `auto` "
        "copies when the daemon runs as root)",
    )
    a = p.parse_args(argv)
    if a.small_files < 1 or a.big_gib <= 0:
        p.error("--small-files and --big-gib must be positive")
    ws = tuple(shlex.split(a.ws)) if a.ws else None
    return Options(
        a.small_files,
        int(a.big_gib * GIB),
        a.keep,
        a.json,
        a.dvc_venv.absolute(),
        ws,
        a.scratch_parent,
        a.link_mode,
    )


# --- the tools -------------------------------------------------------------------


def ensure_dvc(venv: Path) -> Cmd:
    """The venv's ``dvc``, after creating the venv and installing DVC 3.x if needed."""
    dvc = venv / "bin" / "dvc"
    if not (venv / "bin" / "python").exists():
        log(f"creating virtualenv {venv}")
        setup([sys.executable, "-m", "venv", str(venv)])
    if not dvc.exists():
        log(f"installing dvc>=3,<4 into {venv} (pip output below)")
        setup([str(venv / "bin" / "python"), "-m", "pip", "install", "dvc>=3,<4"])
    return (str(dvc),)


def setup(argv: list[str]) -> None:
    """Run a set-up command with its output on stderr, where the user can follow it."""
    if subprocess.run(argv, stdout=sys.stderr).returncode != 0:
        raise BenchError(f"`{' '.join(argv)}` failed (its output is above)")


def dvc_version(dvc: Cmd, env: dict[str, str]) -> str:
    out = subprocess.run([*dvc, "--version"], env=env, capture_output=True, text=True)
    version = out.stdout.strip()
    if out.returncode != 0 or not version.startswith("3."):
        raise BenchError(
            f"`{' '.join(dvc)} --version` gave {version!r}: DVC 3.x is needed",
            hint="remove the --dvc-venv directory to have it rebuilt",
        )
    return version


def find_ws() -> tuple[Cmd, dict[str, str]]:
    """``ws`` on PATH (past a pyenv shim, whose start-up would be timed), else ``python -m``."""
    found = shutil.which("ws")
    if found and "/shims/" in found and shutil.which("pyenv"):
        real = subprocess.run(["pyenv", "which", "ws"], capture_output=True, text=True)
        found = real.stdout.strip() if real.returncode == 0 else found
    if found:
        return (found,), {}
    pythonpath = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return (sys.executable, "-m", "workspace.cli.main"), {"PYTHONPATH": pythonpath}


def make_tools(opts: Options, layout: Layout) -> Tools:
    ws, ws_extra = (opts.ws, {}) if opts.ws else find_ws()
    ws_env = {**os.environ, **ws_extra, "WORKSPACE_HOME": str(layout.ws_home),
              "WORKSPACE_LINK_MODE": opts.link_mode}
    for name in (
        "WORKSPACE_SOCKET",
        "WORKSPACE_CONFIG",
        "WORKSPACE_STORE",
        "WORKSPACE_DATABASE_URL",
    ):
        ws_env.pop(name, None)
    home = layout.dvc_home
    dvc_env = {
        **os.environ,
        "DVC_NO_ANALYTICS": "1",
        "DVC_GLOBAL_CONFIG_DIR": str(home / "global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / "system"),
        "DVC_SITE_CACHE_DIR": str(home / "site-cache"),
    }
    return Tools(ws, ws_env, ensure_dvc(opts.dvc_venv), dvc_env)


# --- the data --------------------------------------------------------------------


def scratch_parent(given: Path | None) -> Path:
    """Same filesystem as the working directory, so no tmpfs such as /dev/shm."""
    if given is not None:
        return given
    tmp = Path(tempfile.gettempdir())
    return tmp if tmp.stat().st_dev == Path.cwd().stat().st_dev else Path.cwd()


def prepare_data(opts: Options, layout: Layout) -> None:
    """Random data in workspace's project, copied whole into DVC's, then flushed."""
    t0 = time.perf_counter()
    layout.ws_a.mkdir(parents=True)
    write_small_tree(layout.ws_a / "small", opts.small_files)
    write_big_file(layout.ws_a / "big.bin", opts.big_bytes)
    layout.dvc_a.mkdir()
    copy_tree(layout.ws_a / "small", layout.dvc_a / "small")
    shutil.copyfile(layout.ws_a / "big.bin", layout.dvc_a / "big.bin")
    os.sync()
    log(f"data written and copied in {time.perf_counter() - t0:.1f}s")


def init_dvc(tools: Tools, project: Path, cache: Path | None = None) -> None:
    """An untimed ``dvc init --no-scm`` with hardlinks, optionally sharing ``cache``."""
    project.mkdir(exist_ok=True)
    tools.dvc_run(project, "init", "--no-scm", "-q")
    if cache is not None:
        tools.dvc_run(project, "cache", "dir", str(cache))
    for key, value in (
        ("cache.type", "hardlink"),
        ("core.autostage", "false"),
        ("core.analytics", "false"),
        ("core.check_update", "false"),
    ):
        tools.dvc_run(project, "config", key, value)


# --- the operations --------------------------------------------------------------


def bench_adds(tools: Tools, layout: Layout) -> list[Row]:
    log("add: small files")
    small = Row(
        "add small files",
        tools.ws_run(layout.ws_a, "add", "small", "-d", "bench/small", "-m", "small"),
        tools.dvc_run(layout.dvc_a, "add", "small"),
        TARGET_ADD,
    )
    log("add: big file")
    big = Row(
        "add big file",
        tools.ws_run(layout.ws_a, "add", "big.bin", "-d", "bench/big", "-m", "big"),
        tools.dvc_run(layout.dvc_a, "add", "big.bin"),
        TARGET_ADD,
    )
    return [small, big]


def ws_checkout(tools: Tools, layout: Layout) -> float:
    layout.ws_b.mkdir()
    tools.ws_run(layout.ws_b, "init")
    return tools.ws_run(layout.ws_b, "get", "bench/small", "small") + tools.ws_run(
        layout.ws_b, "get", "bench/big", "big.bin"
    )


def dvc_checkout(tools: Tools, layout: Layout) -> float:
    init_dvc(tools, layout.dvc_b, cache=layout.dvc_a / ".dvc" / "cache")
    for name in ("small.dvc", "big.bin.dvc"):
        shutil.copyfile(layout.dvc_a / name, layout.dvc_b / name)
    return tools.dvc_run(layout.dvc_b, "checkout")


def bench_checkout(tools: Tools, layout: Layout, opts: Options) -> Row:
    log("checkout into an empty project")
    row = Row(
        "checkout (both) into empty",
        ws_checkout(tools, layout),
        dvc_checkout(tools, layout),
        TARGET_CHECKOUT,
    )
    for project in (layout.ws_b, layout.dvc_b):
        verify_tree(project / "small", opts.small_files)
        verify_tree(project / "big.bin", 1, opts.big_bytes)
    return row


def bench_status(tools: Tools, layout: Layout) -> Row:
    log(f"no-op status, {STATUS_RUNS} runs each")
    ws = [tools.ws_run(layout.ws_a, "status") for _ in range(STATUS_RUNS)]
    dvc = [tools.dvc_run(layout.dvc_a, "status") for _ in range(STATUS_RUNS)]
    return Row(
        f"no-op status (median of {STATUS_RUNS})",
        statistics.median(ws),
        statistics.median(dvc),
        TARGET_STATUS,
    )


def disk_use(layout: Layout, opts: Options) -> dict[str, int]:
    """Bytes on disk for two projects plus their cache, hardlinks counted once."""
    return {
        "dataset_bytes": opts.small_files * SMALL_FILE_BYTES + opts.big_bytes,
        "workspace_bytes": du_total([layout.ws_a, layout.ws_b, layout.ws_home / "store"]),
        "dvc_bytes": du_total([layout.dvc_a, layout.dvc_b]),
    }


# --- main ------------------------------------------------------------------------


def bench(opts: Options, layout: Layout, tools: Tools) -> tuple[list[Row], dict[str, int]]:
    prepare_data(opts, layout)
    init_dvc(tools, layout.dvc_a)
    log_path = layout.root / "ws-serve.log"
    with running_daemon([*tools.ws, "serve"], tools.ws_env, layout.ws_home, log_path) as daemon:
        tools = dataclasses.replace(tools, daemon_pid=daemon.pid)
        tools.ws_run(layout.ws_a, "init")
        rows = bench_adds(tools, layout)
        rows.append(bench_checkout(tools, layout, opts))
        rows.append(bench_status(tools, layout))
        return rows, disk_use(layout, opts)


def describe(opts: Options, layout: Layout, tools: Tools, version: str) -> dict[str, Any]:
    return {
        "dvc": f"{version} ({tools.dvc[0]}; cache.type hardlink)",
        "workspace": f"{' '.join(tools.ws)} (link_mode {opts.link_mode}, as uid {os.geteuid()})",
        "data": f"{opts.small_files} x 4 KiB files in "
        f"{min(opts.small_files, SMALL_DIRS)} dirs + 1 x {opts.big_bytes / GIB:g} GiB file",
        "scratch": str(layout.root),
        "page cache": "warm for both tools (nothing dropped; sync before timing)",
        "daemon": "idle before every timing (after each ws command: <5% CPU, no writes, 0.7 s)",
        "timing": "wall clock of each CLI command as a subprocess",
        "machine": machine(),
    }


def machine() -> str:
    """CPUs and load at the start: other work on the machine shows up in every timing."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.2f} (1 min) {five:.2f} (5 min) at start"


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="ws-bench-", dir=scratch_parent(opts.scratch_parent)))
    layout = Layout(root.resolve())
    try:
        tools = make_tools(opts, layout)
        version = dvc_version(tools.dvc, tools.dvc_env)
        log(f"dvc {version}; scratch {layout.root}")
        meta = describe(opts, layout, tools, version)
        rows, disk = bench(opts, layout, tools)
        one, five, _ = os.getloadavg()
        meta["machine"] += f"; {one:.2f} (1 min) {five:.2f} (5 min) at end"
        print(as_json(meta, rows, disk) if opts.json else as_table(meta, rows, disk))
        return 0
    except BenchError as exc:
        log(f"error: {exc}")
        if not opts.keep:
            log("rerun with --keep to keep the scratch directory for inspection")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if opts.keep:
            log(f"kept {layout.root}")
        else:
            remove_tree(layout.root)


if __name__ == "__main__":
    sys.exit(main())

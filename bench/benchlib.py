"""What a benchmark needs besides the tools: timed commands, data, a daemon, du.

Kept apart from ``bench_vs_dvc.py`` so that file reads as the list of what is
measured. Nothing here imports the ``workspace`` package: the benchmark talks
to it only through its CLI and its socket, as a user would.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
SMALL_FILE_BYTES = 4 * KIB
SMALL_DIRS = 100
BIG_CHUNK = 16 * MIB
DAEMON_START_TIMEOUT = 60.0
DAEMON_STOP_TIMEOUT = 10.0
OUTPUT_TAIL = 4000

Cmd = tuple[str, ...]


class BenchError(Exception):
    """A step failed; the message names the step and carries what it printed."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message if hint is None else f"{message}\nhint: {hint}")


def log(message: str) -> None:
    """Progress goes to stderr so stdout holds only the table (or the JSON)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- commands --------------------------------------------------------------------


def run(argv: Sequence[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Run one command to completion and return its wall-clock seconds."""
    start = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(failure(argv, cwd, done))
    return seconds


def tree_cpu(pid: int) -> float:
    """User + system seconds of ``pid`` and its live descendants (the daemon's file workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            for child in (task / "children").read_text().split():
                total += tree_cpu(int(child))
    return total


def wait_idle(pid: int, *, window: float = 0.7, limit: float = 10.0) -> None:
    """Return once ``pid`` and its children used under 5% of a core and wrote nothing over
    ``window`` seconds (or after ``limit``): what the daemon does in the background after a
    command (the watcher's rescan of what changed, the WAL checkpoint 0.5 s after a write)
    must not land inside the next tool's timing."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu, written = tree_cpu(pid), _written(pid)
        time.sleep(window)
        if tree_cpu(pid) - cpu < 0.05 * window and _written(pid) == written:
            return


def _written(pid: int) -> int:
    """Bytes ``pid`` has caused to be written (``/proc/PID/io``; 0 if unreadable)."""
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def failure(argv: Sequence[str], cwd: Path, done: subprocess.CompletedProcess[str]) -> str:
    return (
        f"`{shlex.join(argv)}` (in {cwd}) exited with {done.returncode}\n"
        f"--- stdout ---\n{done.stdout[-OUTPUT_TAIL:]}\n"
        f"--- stderr ---\n{done.stderr[-OUTPUT_TAIL:]}"
    )


# --- data ------------------------------------------------------------------------


def write_small_tree(root: Path, count: int) -> None:
    """``count`` files of 4 KiB of random bytes, spread over up to 100 directories."""
    dirs = [root / f"d{i:03d}" for i in range(min(count, SMALL_DIRS))]
    for d in dirs:
        d.mkdir(parents=True)
    for i in range(count):
        (dirs[i % len(dirs)] / f"f{i:06d}.bin").write_bytes(os.urandom(SMALL_FILE_BYTES))


def write_big_file(path: Path, size: int) -> None:
    """Random bytes throughout, so no chunking of any kind finds anything to share."""
    with path.open("wb") as f:
        left = size
        while left > 0:
            n = min(BIG_CHUNK, left)
            f.write(os.urandom(n))
            left -= n


def copy_tree(src: Path, dst: Path) -> None:
    """A full copy (new inodes), so each tool starts from its own files."""
    shutil.copytree(src, dst, copy_function=shutil.copyfile)


def verify_tree(path: Path, files: int, size: int | None = None) -> None:
    """Fail loudly if a checkout did not produce what was added."""
    found = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    found = [p for p in found if p.is_file()]
    if len(found) != files or (size is not None and found[0].stat().st_size != size):
        raise BenchError(
            f"{path} holds {len(found)} files, expected {files}"
            + ("" if size is None else f" of {size} bytes")
        )


def du_total(paths: Sequence[Path]) -> int:
    """``du -s`` over all paths at once, so an inode linked from several counts once."""
    argv = ["du", "-s", "-c", "--block-size=1", *map(str, paths)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(failure(argv, Path.cwd(), done))
    return int(done.stdout.strip().splitlines()[-1].split()[0])


def in_scratch(prefix: str, parent: Path | None, keep: bool,
               body: Callable[[Path], str]) -> int:
    """Run ``body`` in a fresh scratch directory, print what it returns, and exit-code it.

    A ``BenchError`` is logged (exit 1); the directory is removed unless ``keep``.
    """
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=parent)).resolve()
    try:
        print(body(root))
        return 0
    except BenchError as exc:
        log(f"error: {exc}")
        return 1
    finally:
        if keep:
            log(f"kept {root}")
        else:
            remove_tree(root)


def remove_tree(root: Path) -> None:
    """``rm -rf``, also through read-only directories a cache may leave behind."""

    def make_writable(func: Callable[..., Any], path: str, _: Any) -> None:
        parent = os.path.dirname(path)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
        func(path)

    shutil.rmtree(root, onerror=make_writable)


# --- the daemon ------------------------------------------------------------------


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket, enough for a health check."""

    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        super().__init__("ws", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.socket_path))
        self.sock = sock


def timed_get(socket_path: Path, route: str, query: dict[str, Any]) -> tuple[float, bytes]:
    """One GET on a fresh connection, as the CLI makes it: (seconds, body); non-200 raises."""
    conn = UnixHTTPConnection(socket_path, timeout=600)
    try:
        start = time.perf_counter()
        conn.request("GET", f"{route}?{urllib.parse.urlencode(query)}")
        response = conn.getresponse()
        body = response.read()
        seconds = time.perf_counter() - start
    finally:
        conn.close()
    if response.status != 200:
        raise BenchError(f"GET {route} {query} answered {response.status}: {body[:500]!r}")
    return seconds, body


def healthy(socket_path: Path) -> bool:
    conn = UnixHTTPConnection(socket_path)
    try:
        conn.request("GET", "/v1/health")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def wait_healthy(proc: subprocess.Popen[bytes], socket_path: Path) -> None:
    deadline = time.monotonic() + DAEMON_START_TIMEOUT
    while not healthy(socket_path):
        if proc.poll() is not None:
            raise BenchError(
                f"`ws serve` exited with {proc.returncode} before answering on {socket_path}"
            )
        if time.monotonic() > deadline:
            raise BenchError(
                f"`ws serve` did not answer GET /v1/health on {socket_path} "
                f"within {DAEMON_START_TIMEOUT:.0f}s"
            )
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the daemon's own process group, SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=DAEMON_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log(f"`ws serve` (pid {proc.pid}) ignored {sig.name}")


def tail(path: Path, limit: int = OUTPUT_TAIL) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return f"--- {path} (last {limit} chars) ---\n{text[-limit:]}"


@contextmanager
def running_daemon(
    argv: Sequence[str], env: dict[str, str], home: Path, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``ws serve`` in its own session, answering on ``home/ws.sock`` until the block ends.

    A failure inside the block gets the daemon's log appended, since a client
    error often only says the daemon went away.
    """
    home.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            list(argv),
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(proc, home / "ws.sock")
        log(f"`{shlex.join(argv)}` is up (pid {proc.pid})")
        yield proc
    except BenchError as exc:
        raise BenchError(f"{exc}\n{tail(log_path)}") from exc
    finally:
        stop(proc)

"""A real ``ws serve`` on a temp Unix socket, and the real CLI run against it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.runtime import Identity, Runtime


@dataclass
class Daemon:
    runtime: Runtime
    owner: Identity
    home: Path
    database_url: str
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    socket_dir: Path | None = None  # outside the 0700 home, for daemons other users reach

    @property
    def socket(self) -> Path:
        return (self.socket_dir or self.home) / "ws.sock"

    @property
    def store(self) -> Path:
        return self.home / "store"

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "PYTHONPATH": self.runtime.pythonpath,
            "HOME": str(self.home),
            "WORKSPACE_SOCKET": str(self.socket),
            "WORKSPACE_HOME": str(self.home),
            "WORKSPACE_DATABASE_URL": self.database_url,
            "LANG": "C.UTF-8",
            **self.extra_env,
        }

    def start(self, timeout: float = 30.0) -> Daemon:
        log = open(self.home.parent / f"{self.home.name}-daemon.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.runtime.python, "-m", "workspace.cli.main", "serve"],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            **as_user(self.runtime, self.owner),
        )
        log.close()
        _wait_for_socket(self.socket, self.process, timeout, self.log_path)
        return self

    @property
    def log_path(self) -> Path:
        return self.home.parent / f"{self.home.name}-daemon.log"

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def ws(self, *args: str, cwd: Path, user: Identity | None = None,
           check: bool = True,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run the real CLI; ``check`` asserts exit 0 and shows stderr when it is not."""
        proc = subprocess.run(
            [self.runtime.python, "-m", "workspace.cli.main", *args],
            cwd=cwd, env={**self.env(), **(env or {})}, capture_output=True, text=True,
            timeout=120, **as_user(self.runtime, user or self.owner),
        )
        if check:
            assert proc.returncode == 0, (
                f"ws {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}")
        return proc

    def ws_json(self, *args: str, cwd: Path, user: Identity | None = None) -> Any:
        return json.loads(self.ws(*args, "--json", cwd=cwd, user=user).stdout)


def as_user(runtime: Runtime, who: Identity) -> dict[str, Any]:
    """subprocess keyword arguments that run a child as ``who`` (nothing when not root)."""
    if not runtime.as_root:
        return {}
    return {"user": who.uid, "group": who.gid, "extra_groups": []}


def _wait_for_socket(path: Path, process: subprocess.Popen[bytes], timeout: float,
                     log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daemon exited {process.returncode}:\n{log.read_text()}")
        if path.exists():
            probe = socket.socket(socket.AF_UNIX)
            try:
                probe.connect(str(path))
                return
            except OSError:
                pass
            finally:
                probe.close()
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"daemon did not listen within {timeout}s:\n{log.read_text()}")


def tree_of(path: Path) -> dict[str, bytes]:
    """Every regular file below ``path`` with its bytes (for before/after comparisons)."""
    found = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = Path(root) / name
            if full.is_file() and not full.is_symlink():
                found[str(full.relative_to(path))] = full.read_bytes()
    return found


def give(path: Path, owner: Identity) -> None:
    """Hand a tree the test made (as root, perhaps) to ``owner``, as if they had made it."""
    if os.geteuid() != 0:
        return
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.lchown(os.path.join(root, name), owner.uid, owner.gid)
    os.lchown(path, owner.uid, owner.gid)

"""A daemon in service mode (its own Unix user, socket outside its 0700 home), and
small helpers to act as one of several users at once."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.daemon import Daemon, as_user
from tests.support.runtime import Identity, Runtime


@dataclass
class ServiceDaemon(Daemon):
    """``ws serve`` with ``mode = "service"``: the socket lives in ``run_dir`` (0755)."""

    run_dir: Path = field(default_factory=Path)

    @property
    def socket(self) -> Path:
        return self.run_dir / "ws.sock"


def start_service_daemon(runtime: Runtime, service: Identity, **env: str) -> ServiceDaemon:
    """A service-mode daemon run by ``service`` on SQLite, with every CLI run's HOME public.

    Its first admin is the service user itself, and every user who connects is
    registered as a writer: these tests are about files, not about roles.
    """
    home = runtime.make_dir(service, "svc-home")
    run_dir = runtime.make_dir(service, "svc-run")
    extra = {"WORKSPACE_MODE": "service", "HOME": str(runtime.scratch),
             "WORKSPACE_ADMIN": service.name, "WORKSPACE_AUTO_REGISTER_ROLE": "writer", **env}
    daemon = ServiceDaemon(runtime, service, home, f"sqlite:///{home / 'workspace.db'}",
                           extra_env=extra, run_dir=run_dir)
    return daemon.start()


def private_dir(runtime: Runtime, owner: Identity, name: str) -> Path:
    """A 0700 directory of ``owner``: nobody else, the daemon included, may enter it."""
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=runtime.scratch))
    os.chown(path, owner.uid, owner.gid)
    path.chmod(0o700)
    return path


def run_python(runtime: Runtime, who: Identity, code: str, *args: str,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (sys.argv[1:] = ``args``) as ``who``: what that user's own process can do."""
    proc = subprocess.run([runtime.python, "-c", code, *args], capture_output=True, text=True,
                          timeout=60, cwd="/", env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                          **as_user(runtime, who))
    if check:
        assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


_ATTEMPTS = r"""
import json, os, sys
path, elsewhere = sys.argv[1], sys.argv[2]
def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return type(exc).__name__
def write():
    with open(path, "r+b") as handle:
        handle.write(b"corrupted")
print(json.dumps({
    "read": attempt(lambda: open(path, "rb").read()),
    "write": attempt(write),
    "chmod": attempt(lambda: os.chmod(path, 0o666)),
    "link": attempt(lambda: os.link(path, elsewhere)),
}))
"""


def attempts_on(runtime: Runtime, who: Identity, path: Path, elsewhere: Path) -> dict[str, Any]:
    """What ``who`` gets trying to read, write, chmod and hardlink ``path`` ("ok" or an error)."""
    found: dict[str, Any] = json.loads(
        run_python(runtime, who, _ATTEMPTS, str(path), str(elsewhere)).stdout)
    return found


def store_objects(store: Path) -> dict[str, int]:
    """Object id -> size of every object in the store (read as root)."""
    objects: dict[str, int] = {}
    for fanout in sorted((store / "objects").iterdir()):
        for entry in fanout.iterdir():
            objects[fanout.name + entry.name] = entry.lstat().st_size
    return objects


def inodes_of(path: Path) -> dict[str, tuple[int, int, int, bytes]]:
    """relative path -> (inode, owner, mode, bytes) of every entry below ``path``; symlinks as
    their target text. For before/after comparisons that notice replaced inodes too."""
    found: dict[str, tuple[int, int, int, bytes]] = {}
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            full = Path(root) / name
            st = full.lstat()
            if full.is_symlink():
                data = os.readlink(full).encode()
            elif full.is_file():
                data = full.read_bytes()
            else:
                data = b""
            found[str(full.relative_to(path))] = (st.st_ino, st.st_uid, st.st_mode, data)
    return found

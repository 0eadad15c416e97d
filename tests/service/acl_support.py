"""Helpers for the object-ACL tests: processes of real users (with their Unix groups), their
reads, waiting for the daemon's background ACL work, and 0755 homes as ``useradd -m`` makes."""

from __future__ import annotations

import json
import os
import pwd
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime
from workspace import posixacl
from workspace.store import acl as object_acl

POLL_INTERVAL = "0.2"
REVOKE_WITHIN = 30.0  # seconds; generous: the suite shares two cores with other runs

_READS = r"""
import errno, json, sys
found = {}
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as handle:
            handle.read(1)
        found[path] = "ok"
    except OSError as exc:
        found[path] = errno.errorcode.get(exc.errno, str(exc.errno))
print(json.dumps(found))
"""


def as_member(runtime: Runtime, who: Identity) -> dict[str, Any]:
    """subprocess arguments running a child as ``who`` with the groups a new login gets now."""
    if not runtime.as_root:
        return {}
    groups = os.getgrouplist(pwd.getpwuid(who.uid).pw_name, who.gid)
    return {"user": who.uid, "group": who.gid, "extra_groups": groups}


def reads(runtime: Runtime, who: Identity, paths: list[Path]) -> dict[str, str]:
    """What a new process of ``who`` gets opening each path: "ok" or the errno name."""
    proc = subprocess.run([runtime.python, "-c", _READS, *map(str, paths)], capture_output=True,
                          text=True, timeout=60, cwd="/", env={"PATH": "/usr/bin:/bin"},
                          **as_member(runtime, who))
    assert proc.returncode == 0, proc.stderr
    found: dict[str, str] = json.loads(proc.stdout)
    return found


def ws(daemon: Daemon, who: Identity, *args: str, cwd: Path,
       check: bool = True) -> subprocess.CompletedProcess[str]:
    """The real CLI as ``who``, carrying their Unix groups (the daemon reads the peer's)."""
    proc = subprocess.run([daemon.runtime.python, "-m", "workspace.cli.main", *args], cwd=cwd,
                          env=daemon.env(), capture_output=True, text=True, timeout=120,
                          **as_member(daemon.runtime, who))
    if check:
        assert proc.returncode == 0, f"ws {' '.join(args)}: {proc.stdout}\n{proc.stderr}"
    return proc


def ws_json(daemon: Daemon, who: Identity, *args: str, cwd: Path) -> Any:
    return json.loads(ws(daemon, who, *args, "--json", cwd=cwd).stdout)


def eventually(check: Callable[[], bool], what: str, timeout: float = REVOKE_WITHIN) -> float:
    """Poll until ``check`` holds; returns the seconds it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"not within {timeout}s: {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def open_home(runtime: Runtime, who: Identity) -> Path:
    """A 0755 home with a 0755 project, as Debian's ``useradd -m`` makes them."""
    home = runtime.make_dir(who, f"{who.name}-open-home")
    project = home / "project"
    project.mkdir(mode=0o755)
    give(home, who)
    return project


def write_files(root: Path, owner: Identity, files: dict[str, bytes],
                executable: tuple[str, ...] = ()) -> None:
    for relpath, data in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_bytes(data)
        path.chmod(0o755 if relpath in executable else 0o644)
    give(root, owner)


def readers(path: Path) -> object_acl.Readers:
    """Who the ACL of ``path`` (its inode: an object, or a copy) names."""
    return object_acl.readers_of(posixacl.read(str(path)))


def all_objects(store: Path) -> list[Path]:
    return sorted(p for fanout in (store / "objects").iterdir() for p in fanout.iterdir())

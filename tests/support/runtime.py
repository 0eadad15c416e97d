"""How test processes run: as an unprivileged Unix user when the suite runs as root.

Root bypasses file permissions, so a test that a hardlinked object "cannot be
written" proves nothing as root. When the suite runs as root (as in CI), it
creates system users (``wst-*``), a Python environment they can execute (the
project's interpreter may live under /root, which they cannot enter), and a
world-readable copy of the source tree. The scratch tree is removed at the
end; the users and the dependency environment (cached by the hash of
pyproject.toml under /var/tmp) stay, because several pytest-xdist workers, or
several test runs, share them at once: one run deleting ``wst-alice`` would
pull the uid from under another's daemon. Both are created under a file lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
VENV_ROOT = Path("/var/tmp/workspace-test-python")
SHARED_LOCK = Path("/var/tmp/workspace-test.lock")


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    uid: int
    gid: int


@dataclass
class Runtime:
    python: str
    pythonpath: str
    scratch: Path

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def user(self, name: str) -> Identity:
        """A Unix identity for test processes (created on first use when root)."""
        if not self.as_root:
            me = pwd.getpwuid(os.geteuid())
            return Identity(me.pw_name, me.pw_uid, me.pw_gid)
        full = f"wst-{name}"
        with _shared_lock():
            try:
                entry = pwd.getpwnam(full)
            except KeyError:
                subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                                "--shell", "/usr/sbin/nologin", full], check=True)
                entry = pwd.getpwnam(full)
        return Identity(full, entry.pw_uid, entry.pw_gid)

    def make_dir(self, owner: Identity, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.scratch))
        os.chown(path, owner.uid, owner.gid)
        path.chmod(0o755)
        return path

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)


def make_runtime() -> Runtime:
    scratch = Path(tempfile.mkdtemp(prefix="ws-tests-"))
    scratch.chmod(0o755)
    if os.geteuid() != 0:
        return Runtime(sys.executable, str(REPO), scratch)
    source = _readable_source_copy(scratch)
    return Runtime(str(_dependency_python()), str(source), scratch)


def _readable_source_copy(scratch: Path) -> Path:
    target = scratch / "src"
    for part in ("workspace", "migrations", "policies"):
        shutil.copytree(REPO / part, target / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for root, dirs, files in os.walk(scratch):
        for name in (*dirs, *files):
            os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
    return target


def _dependency_python() -> Path:
    """A venv with the project's dependencies, built from Debian's Python, cached by hash."""
    pyproject = (REPO / "pyproject.toml").read_bytes()
    deps = tomllib.loads(pyproject.decode())["project"]
    wanted = [*deps["dependencies"], *deps["optional-dependencies"]["postgres"]]
    key = hashlib.sha256("\n".join(sorted(wanted)).encode()).hexdigest()[:16]
    venv = VENV_ROOT / key
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    with _shared_lock():
        if not (venv / ".complete").exists():
            _build_venv(venv, wanted)
    return python


def _build_venv(venv: Path, wanted: list[str]) -> None:
    python = venv / "bin" / "python"
    shutil.rmtree(venv, ignore_errors=True)
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    VENV_ROOT.chmod(0o755)
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    *wanted], check=True)
    subprocess.run(["chmod", "-R", "a+rX", str(venv)], check=True)
    (venv / ".complete").touch()


@contextmanager
def _shared_lock() -> Iterator[None]:
    """One creator at a time of what every worker and every concurrent run shares."""
    with open(SHARED_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

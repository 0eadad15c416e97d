"""A small file system of a test's own, to fill up: ``truncate`` + ``mkfs.ext4`` + loop mount.

No reserved blocks (``-m 0``), so root and the daemon's user see the same
free space. Needs root and a loop device: without them the test is skipped
and says why. The mount is always removed, lazily if something still holds it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.runtime import Identity

MIB = 1024 * 1024


@contextlib.contextmanager
def small_fs(parent: Path, mib: int, owner: Identity | None = None) -> Iterator[Path]:
    """A fresh ext4 of ``mib`` MiB mounted on a new directory under ``parent``.

    The mounted directory belongs to ``owner`` (default: root), its parent is 0755.
    """
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root")
    if not Path("/dev/loop-control").exists():
        pytest.skip("this kernel has no loop device (/dev/loop-control is missing)")
    base = Path(tempfile.mkdtemp(prefix="smallfs-", dir=parent))
    base.chmod(0o755)
    image, mount = base / "fs.img", base / "mnt"
    mount.mkdir()
    subprocess.run(["truncate", "-s", f"{mib}M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"cannot loop-mount a file system here: {mounted.stderr.strip()}")
    try:
        if owner is not None:
            os.chown(mount, owner.uid, owner.gid)
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], check=False).returncode != 0:
            subprocess.run(["umount", "--lazy", str(mount)], check=False)  # never leak a mount
        shutil.rmtree(base, ignore_errors=True)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(mount: Path) -> Path:
    """Write a root-owned file until the file system refuses another byte."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for chunk in (MIB, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * chunk)
        os.fsync(fd)
    finally:
        os.close(fd)
    return filler

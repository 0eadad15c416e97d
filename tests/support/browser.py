"""A real browser for the dashboard tests: Debian's Chromium, driven by Playwright.

``playwright install`` downloads its own browser builds, which this machine
(and CI) cannot fetch; Debian's ``chromium`` package installs from the
Debian registry. CI starts from a bare machine and runs only ``.ci/run``, so
the suite installs it itself (as root, under the shared lock so that several
xdist workers do not run apt at once) instead of asking a person to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.support.runtime import _shared_lock

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def ensure_chromium() -> Path:
    """``/usr/bin/chromium``, installed with apt-get first if it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            f"{CHROMIUM} is missing and this run cannot install it (needs root and apt-get): "
            "run `apt-get install -y chromium` once, or run the suite as root")
    with _shared_lock():
        if not CHROMIUM.exists():
            _apt("update")
            _apt("install", "-y", "--no-install-recommends", "chromium")
    return CHROMIUM


def _apt(*args: str) -> None:
    done = subprocess.run(["apt-get", "-q", "-o", "DPkg::Lock::Timeout=600", *args],
                          env=_APT_ENV, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"apt-get {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

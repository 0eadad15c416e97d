#!/usr/bin/env python3
"""Screenshots of the dashboard for docs/dashboard.md, taken from a real daemon.

    python docs/screenshots.py            # writes docs/img/dashboard-*.png

Starts ``ws serve --tcp`` in a scratch home, makes a little history with the
real CLI (three datasets, a CSV edited over four versions, a tag, a robot
account), logs in through the login form in Debian's Chromium driven by
Playwright (``apt-get install chromium``; ``pip install playwright``; the
test suite installs Chromium the same way, see tests/support/browser.py),
and photographs the main pages. Nothing here is staged: what the pictures
show is what the daemon answered.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
PASSWORD = "screenshots need a password"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LABELS = ["id,image,label,annotator"] + [
    f"{i},images/{i:04d}.jpg,{'cat' if i % 3 else 'dog'},{'ana' if i % 2 else 'ben'}"
    for i in range(1, 15)]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="ws-screenshots-"))
    port = _free_port()
    env = {**os.environ, "WORKSPACE_HOME": str(root / "home"),
           "WORKSPACE_TCP": f"127.0.0.1:{port}", "PYTHONPATH": str(REPO)}
    env.pop("WORKSPACE_SOCKET", None)
    env.pop("WORKSPACE_CONFIG", None)
    daemon = subprocess.Popen([sys.executable, "-m", "workspace.cli.main", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(root / "home" / "ws.sock")
        project = root / "project"
        project.mkdir()
        _history(project, env)
        _photograph(f"http://127.0.0.1:{port}", _whoami())
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _history(project: Path, env: dict[str, str]) -> None:
    def ws(*args: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, "-m", "workspace.cli.main", *args], cwd=project,
                       env=env, check=True, input=stdin, text=True, capture_output=True)

    cats = project / "cats"
    (cats / "images").mkdir(parents=True)
    for i in range(1, 15):
        (cats / "images" / f"{i:04d}.jpg").write_bytes(os.urandom(2048 + 97 * i))
    (cats / "labels.csv").write_text("\n".join(LABELS[:9]) + "\n")
    (project / "reviews").mkdir()
    (project / "reviews" / "train.jsonl").write_text('{"text": "great", "label": 1}\n' * 40)
    (project / "model").mkdir()
    (project / "model" / "resnet50.pt").write_bytes(os.urandom(300_000))
    ws("init")
    ws("add", "cats", "-d", "vision/cats", "-m", "first 8 labelled images")
    ws("tag", "vision/cats@1", "v1.0")
    ws("add", "reviews", "-d", "nlp/reviews", "-m", "training split")
    ws("add", "model", "-d", "models/resnet", "-m", "baseline weights")
    edits = [(LABELS[:12], "label 3 more images"),
             ([*LABELS[:4], "4,images/0004.jpg,fox,ben", *LABELS[5:12]], "0004 is a fox"),
             ([*LABELS[:4], "4,images/0004.jpg,fox,ben", *LABELS[5:]], "the last 3 labels")]
    for lines, message in edits:
        ws("unlock", "cats/labels.csv")
        (cats / "labels.csv").write_text("\n".join(lines) + "\n")
        ws("commit", "cats", "-m", message)
    ws("tag", "vision/cats@4", "v2.0")
    ws("user", "add", "ci-bot", "--robot")
    ws("user", "passwd", stdin=f"{PASSWORD}\n{PASSWORD}\n")


def _photograph(url: str, user: str) -> None:
    from playwright.sync_api import sync_playwright

    out = DOCS / "img"
    out.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 560})
        page.goto(f"{url}/ui/login")
        page.get_by_label("User").fill(user)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/ui/datasets")
        shots = {"datasets": "/ui/datasets",
                 "files": "/ui/files?ref=vision/cats@4&q=images/00",
                 "lines": "/ui/lines?ref=vision/cats@4&file=labels.csv",
                 "audit": "/ui/audit?action=dataset:version:commit&limit=8"}
        for name, address in shots.items():
            page.goto(url + address)
            page.screenshot(path=str(out / f"dashboard-{name}.png"))
            print(f"docs/img/dashboard-{name}.png")
        browser.close()


def _whoami() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(sock: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.exists():
            return
        time.sleep(0.1)
    raise SystemExit(f"the daemon did not listen on {sock} within {timeout:.0f}s")


if __name__ == "__main__":
    sys.exit(main())

"""A daemon listening on TCP too, with two people and a little history: the dashboard's world.

alice runs the daemon (single-user mode, so she is its admin) and owns two
datasets: ``public/iris`` (three versions of a small text file and a few
binary files, the first version tagged ``v1.0``) and ``secret/plans``. bob
(``wst-bob``) is a registered user who holds ``reader`` on ``public/*`` only.
Both have a password, so both can log in over TCP.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.daemon import Daemon, as_user, give
from tests.support.runtime import Identity, Runtime

PASSWORD = "correct horse battery staple"
LABELS_V1 = "id,label\n1,cat\n2,dog\n3,cat\n"
LABELS_V2 = "id,label\n1,cat\n2,wolf\n3,cat\n4,dog\n"
LABELS_V3 = LABELS_V2 + "5,<b>bold</b>\n"


@dataclass
class Site:
    daemon: Daemon
    url: str  # http://127.0.0.1:PORT
    project: Path
    admin: Identity
    reader: Identity

    @contextmanager
    def login(self, name: str) -> Iterator[httpx.Client]:
        """An HTTP client holding a dashboard session of ``name`` (logged in by the form)."""
        with httpx.Client(base_url=self.url, timeout=30) as client:
            form = client.get("/ui/login")
            token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            answer = client.post("/ui/login", data={"csrf": token, "name": name,
                                                    "password": PASSWORD, "next": "/datasets"})
            assert answer.status_code == 303, answer.text
            yield client

    def ws(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.daemon.ws(*args, cwd=self.project)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_site(runtime: Runtime, **env: str) -> Site:
    alice, bob = runtime.user("alice"), runtime.user("bob")
    home = runtime.make_dir(alice, "home")
    address = f"127.0.0.1:{free_port()}"
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_TCP": address, **env}).start()
    project = runtime.make_dir(alice, "project")
    site = Site(daemon, f"http://{address}", project, alice, bob)
    _fill(site)
    return site


def _fill(site: Site) -> None:
    iris, plans = site.project / "iris", site.project / "plans"
    (iris / "images").mkdir(parents=True)
    (iris / "labels.csv").write_text(LABELS_V1)
    for i in range(3):
        (iris / "images" / f"img{i}.bin").write_bytes(bytes([i]) * 100 + b"\0")
    plans.mkdir()
    (plans / "roadmap.txt").write_text("take over the world\n")
    give(site.project, site.admin)
    site.ws("init")
    site.ws("add", "iris", "-d", "public/iris", "-m", "first cut")
    site.ws("tag", "public/iris@1", "v1.0")
    for content, message in ((LABELS_V2, "fix labels"), (LABELS_V3, "add sample 5")):
        site.ws("unlock", "iris/labels.csv")
        (iris / "labels.csv").write_text(content)
        site.ws("commit", "iris", "-m", message)
    site.ws("add", "plans", "-d", "secret/plans", "-m", "the plan")
    site.ws("user", "add", site.reader.name)
    site.ws("role", "grant", site.reader.name, "reader", "public/*")
    for who in (site.admin.name, site.reader.name):
        set_password(site.daemon, who, site.project)


def set_password(daemon: Daemon, name: str, cwd: Path) -> None:
    proc = subprocess.run([daemon.runtime.python, "-m", "workspace.cli.main", "user", "passwd",
                           name], input=f"{PASSWORD}\n{PASSWORD}\n", text=True,
                          capture_output=True, cwd=cwd, env=daemon.env(), timeout=60,
                          **as_user(daemon.runtime, daemon.owner))
    assert proc.returncode == 0, proc.stderr

"""The daemon's file workers, as users meet them: checkouts big enough to go through them.

A service daemon starts one worker process per CPU (``file_workers``); two
users check out 600 files at once (the links and the ACL pass run in the
workers), each gets the author's inodes and can read them; a worker killed
between checkouts is replaced and the next checkout works; ``file_workers =
0`` runs everything in the daemon's threads, with the same result.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, run_python, start_service_daemon
from workspace.store.jobs import IN_THREAD_BELOW

pytestmark = needs_root

FILES = IN_THREAD_BELOW + 88


def _workers_of(daemon: ServiceDaemon) -> list[int]:
    assert daemon.process is not None
    found = []
    for task in Path(f"/proc/{daemon.process.pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"workspace.store.workers" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


def _dataset(runtime: Runtime, daemon: ServiceDaemon, author: Identity, name: str) -> Path:
    project = home_of(runtime, author)
    data = project / "data"
    for i in range(FILES):
        path = data / f"d{i % 7}" / f"f{i}"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(f"file {i}\n".encode())
    give(project, author)
    daemon.ws("init", cwd=project, user=author)
    daemon.ws("add", "data", "-d", name, "-m", "600 files", cwd=project, user=author)
    return data


def _get(daemon: ServiceDaemon, runtime: Runtime, who: Identity, name: str) -> Path:
    project = home_of(runtime, who)
    daemon.ws("init", cwd=project, user=who)
    got = daemon.ws_json("get", name, "data", cwd=project, user=who)
    assert got["summary"]["linked"] == FILES and got["summary"]["copied"] == 0
    return project / "data"


def _same_files(runtime: Runtime, who: Identity, mine: Path, author: Path) -> None:
    for i in (0, 1, FILES // 2, FILES - 1):
        rel = f"d{i % 7}/f{i}"
        assert (mine / rel).lstat().st_ino == (author / rel).lstat().st_ino, rel
    read = run_python(runtime, who, "import sys; print(open(sys.argv[1]).read(), end='')",
                      str(mine / f"d{(FILES - 1) % 7}" / f"f{FILES - 1}"))
    assert read.stdout == f"file {FILES - 1}\n"


@pytest.fixture
def carol(runtime: Runtime) -> Identity:
    return runtime.user("carol")


def test_two_users_check_out_through_the_workers_at_once(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity,
        carol: Identity) -> None:
    assert len(_workers_of(service)) == len(os.sched_getaffinity(0))
    author = _dataset(runtime, service, alice_user, "workers/both")
    got: dict[str, Path] = {}
    errors: list[BaseException] = []

    def get(who: Identity) -> None:
        try:
            got[who.name] = _get(service, runtime, who, "workers/both")
        except BaseException as exc:  # handed to the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=get, args=(who,)) for who in (bob, carol)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for who in (bob, carol):
        _same_files(runtime, who, got[who.name], author)


def test_a_killed_worker_is_replaced_and_the_next_checkout_works(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity) -> None:
    author = _dataset(runtime, service, alice_user, "workers/killed")
    before = _workers_of(service)
    os.kill(before[0], signal.SIGKILL)
    first, second = home_of(runtime, bob), home_of(runtime, bob)
    for project in (first, second):
        service.ws("init", cwd=project, user=bob)
    # Every worker is used (the ACL pass, then links cut into a job per directory).
    failed = service.ws("get", "workers/killed", "data", cwd=first, user=bob, check=False)
    assert failed.returncode != 0
    assert "file worker" in failed.stderr and "run the command again" in failed.stderr
    service.ws("get", "workers/killed", "data", cwd=second, user=bob)
    _same_files(runtime, bob, second / "data", author)
    deadline = time.monotonic() + 10
    while len(_workers_of(service)) < len(before):
        assert time.monotonic() < deadline, "the dead worker was not replaced"
        time.sleep(0.05)
    assert before[0] not in _workers_of(service)


@pytest.fixture
def no_workers(runtime: Runtime, svc: Identity) -> Iterator[ServiceDaemon]:
    daemon = start_service_daemon(runtime, svc, WORKSPACE_FILE_WORKERS="0")
    yield daemon
    daemon.stop()


def test_with_no_workers_the_daemon_does_it_in_its_threads(
        runtime: Runtime, no_workers: ServiceDaemon, alice_user: Identity,
        bob: Identity) -> None:
    assert _workers_of(no_workers) == []
    author = _dataset(runtime, no_workers, alice_user, "workers/none")
    _same_files(runtime, bob, _get(no_workers, runtime, bob, "workers/none"), author)

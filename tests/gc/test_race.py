"""gc in a tight loop (grace 0) while eight workspaces add, commit and prune overlapping data.

The dangerous moment is an add deduplicating against an object that gc has
just found unreferenced: every file here comes from one small pool of
contents, each commit drops some and brings others back, and each worker
prunes its old versions right away, so objects keep becoming unreferenced
and then wanted again. The daemon copies instead of linking (``link_mode =
copy``), so no workspace link protects an object: only pins and references
do; and a larger file staged after the pool's keeps each operation between
its deduplication and its version for a while. At the end every kept
version's every object must exist and hash to its name: zero lost.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gc.helpers import every_kept_object_is_intact, write
from tests.support.daemon import Daemon, as_user, give
from tests.support.runtime import Identity, Runtime

WORKERS = 8
COMMITS = 4
GC_CYCLES = 200
POOL = [os.urandom(3000) + bytes([i]) for i in range(24)]

_GC_LOOP = r"""
import json, os, sys
import httpx
socket, cycles, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = httpx.Client(transport=httpx.HTTPTransport(uds=socket), base_url="http://ws",
                      timeout=120)
done = removed = 0
errors = []
while done < cycles or not os.path.exists(stop):
    lines = client.post("/v1/gc", json={"grace": 0}).text.splitlines()
    last = json.loads(lines[-1])
    if last.get("event") == "result":
        removed += last["result"]["removed"]
    else:
        errors.append(last)
    done += 1
print(json.dumps({"cycles": done, "removed": removed, "errors": errors}))
"""


def _worker(daemon: Daemon, root: Path, index: int, failures: list[str]) -> None:
    rng = random.Random(index)
    try:
        data = root / "data"
        for number in range(COMMITS + 1):
            for old in list(data.glob("*/*")) if data.exists() else []:
                old.unlink()
            for slot in rng.sample(range(len(POOL)), 3):
                write(data / "a" / f"f{slot}.bin", POOL[slot])
            write(data / "z" / "own.bin", os.urandom(4 << 20))  # staged last
            give(root, daemon.owner)
            if number == 0:
                daemon.ws("init", cwd=root)
                daemon.ws("add", "data", "-d", f"race/w{index}", "-m", "0", cwd=root)
            else:
                daemon.ws("commit", "data", "-m", str(number), cwd=root)
                daemon.ws("prune", f"race/w{index}", "--keep-last", "1", "--force", cwd=root)
    except BaseException as exc:  # reported by the test, with the worker's number
        failures.append(f"worker {index}: {exc}")


@pytest.fixture
def copying_daemon(runtime: Runtime, alice: Identity, database_url: str) -> Iterator[Daemon]:
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, database_url,
                     extra_env={"WORKSPACE_LINK_MODE": "copy"}).start()
    yield running
    running.stop()


@pytest.mark.timeout(900)
def test_gc_racing_adds_and_commits_loses_nothing(copying_daemon: Daemon,
                                                  project: Path) -> None:
    daemon = copying_daemon
    stop = daemon.home.parent / f"{daemon.home.name}-stop"
    gc_loop = subprocess.Popen(
        [daemon.runtime.python, "-c", _GC_LOOP, str(daemon.socket), str(GC_CYCLES), str(stop)],
        env=daemon.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        **as_user(daemon.runtime, daemon.owner))
    failures: list[str] = []
    roots = [project / f"w{i}" for i in range(WORKERS)]
    threads = [threading.Thread(target=_worker, args=(daemon, root, i, failures))
               for i, root in enumerate(roots)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.touch()
    out, err = gc_loop.communicate(timeout=600)
    assert gc_loop.returncode == 0, err
    report = json.loads(out)

    assert not failures, (failures, _errors_in(daemon.log_path))
    assert report["cycles"] >= GC_CYCLES and report["errors"] == []
    assert report["removed"] > 0  # gc did delete while the writers ran
    assert every_kept_object_is_intact(daemon) > 0
    for index, root in enumerate(roots):  # and each workspace still holds its version
        status = daemon.ws_json("status", cwd=root)["tracked"][0]
        assert status["clean"] and status["dataset"] == f"race/w{index}", status
        listed = daemon.ws_json("ls", f"race/w{index}", cwd=root)["files"]
        assert len(listed) == 4


def _errors_in(log: Path) -> str:
    """The daemon's logged errors (with their tracebacks), to say why a worker failed."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(line for line in text.splitlines()
                     if "ERROR" in line or line.startswith((" ", "Traceback", "sqlalchemy",
                                                             "psycopg")))[-6000:]

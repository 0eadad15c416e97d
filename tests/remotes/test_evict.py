"""`ws gc --evict` and `ws fsck --repair` from a remote, against real daemons, a real S3
server on loopback and a file:// remote.

Evicting drops local objects the default remote holds and no workspace links;
a later checkout fetches them back (verified); fsck knows them as evicted, not
missing; a damaged object is restored from the remote by `ws fsck --repair`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import blake3
import pytest

from tests.gc.helpers import object_path
from tests.remotes.conftest import DaemonFactory, add_and_push, make_project
from tests.support.daemon import Daemon, as_user, give, tree_of
from tests.support.runtime import Identity, Runtime
from tests.support.service import run_python

NOT_FOUND, DENIED, CORRUPT = 3, 4, 7


def _oids(daemon: Daemon, ref: str, cwd: Path) -> dict[str, str]:
    return {f["path"]: f["oid"] for f in daemon.ws_json("ls", ref, cwd=cwd)["files"]}


_STREAM = r"""
import json, sys
import httpx
socket_path, route, body = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
client = httpx.Client(transport=httpx.HTTPTransport(uds=socket_path), base_url="http://ws",
                      timeout=60)
with client.stream("POST", route, json=body) as response:
    print(json.dumps([json.loads(line) for line in response.iter_lines() if line.strip()]))
"""


def _stream(runtime: Runtime, who: Identity, daemon: Daemon, route: str,
            body: dict[str, object]) -> list[dict[str, object]]:
    """The NDJSON events of a long operation, as the CLI receives them (as ``who``)."""
    out = run_python(runtime, who, _STREAM, str(daemon.socket), route, json.dumps(body))
    return list(json.loads(out.stdout))


def _pushed_then_one_more(daemon: Daemon, project: Path, remote_url: str) -> None:
    """vision/cats@1 pushed to the default remote; @2 adds late.bin, never pushed."""
    add_and_push(daemon, project, remote_url, default=True)
    (project / "data" / "late.bin").write_bytes(os.urandom(5000))
    give(project, daemon.owner)
    daemon.ws("commit", "data", "-m", "v2: one more file", cwd=project)


def test_evict_then_checkout_fetches_the_bytes_back(
        database_url: str, remote_url: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    daemon = start_daemon(database_url)
    project = make_project(runtime, alice, daemon, small=4, large=1)
    refused = daemon.ws("gc", "--evict", cwd=project, check=False)
    assert refused.returncode == NOT_FOUND and "default remote" in refused.stderr
    _pushed_then_one_more(daemon, project, remote_url)
    before = tree_of(project / "data")
    oids = _oids(daemon, "vision/cats@2", project)
    for path in oids:  # the workspace keeps only small/000.txt linked
        if path != "small/000.txt":
            (project / "data" / path).unlink()
    on_remote = {p: o for p, o in oids.items() if p not in ("small/000.txt", "late.bin")}

    dry = daemon.ws_json("gc", "--evict", "--dry-run", cwd=project)["evict"]
    assert (dry["dry_run"], dry["evicted"], dry["remote"]) == (True, 4, "origin")
    assert all(object_path(daemon, o).exists() for o in oids.values())  # nothing removed

    done = daemon.ws_json("gc", "--evict", cwd=project)["evict"]
    assert (done["evicted"], done["linked"], done["not_on_remote"]) == (4, 1, 1)
    assert done["evicted_bytes"] == sum(len(before[p]) for p in on_remote)
    assert not any(object_path(daemon, o).exists() for o in on_remote.values())
    assert object_path(daemon, oids["small/000.txt"]).exists()  # linked in a workspace
    assert object_path(daemon, oids["late.bin"]).exists()  # the remote lacks it
    checked = daemon.ws_json("fsck", cwd=project)
    assert (checked["ok"], checked["evicted"], checked["problems"]) == (True, 4, [])

    events = _stream(runtime, alice, daemon, "/v1/get",
                     {"ref": "vision/cats@2", "path": str(project / "fresh")})
    starts = [e for e in events if e["event"] == "start"]  # what a terminal's bar shows
    assert (starts[0]["files"], starts[0]["bytes"]) == (4, done["evicted_bytes"])  # fetching
    assert [e for e in events if e["event"] == "progress"]
    assert events[-1]["event"] == "result"
    assert tree_of(project / "fresh") == before
    for oid in on_remote.values():
        assert blake3.blake3(object_path(daemon, oid).read_bytes()).hexdigest() == oid
    assert daemon.ws_json("fsck", "--read-data", cwd=project)["evicted"] == 0
    events = daemon.ws_json("audit", "--user", alice.name, cwd=project)["events"]
    evicted = [e["detail"] for e in events if e["action"] == "remote:object:evict"]
    assert [(d["evicted"], d["remote"]) for d in evicted] == [(4, "origin")]
    assert any(e["action"] == "remote:object:fetch" for e in events)


def test_fsck_repair_restores_a_corrupt_and_a_missing_object_from_the_remote(
        remote_url: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    daemon = start_daemon()
    project = make_project(runtime, alice, daemon, small=3, large=1)
    add_and_push(daemon, project, remote_url, default=True)
    oids = _oids(daemon, "vision/cats@1", project)
    good = tree_of(project / "data")
    corrupt, missing = oids["big0.bin"], oids["small/001.txt"]
    target = object_path(daemon, corrupt)
    target.chmod(0o644)  # as root: nothing but the mode stands in the way
    with open(target, "r+b") as handle:  # the workspace's link shares the damage
        handle.write(b"\x00not the bytes")
    target.chmod(0o444)
    (project / "data" / "small" / "001.txt").unlink()  # no workspace copy left
    object_path(daemon, missing).unlink()

    found = daemon.ws("fsck", "--read-data", "--json", cwd=project, check=False)
    assert found.returncode == CORRUPT, found.stderr
    assert sorted(p["kind"] for p in json.loads(found.stdout)["problems"]) == [
        "corrupt", "missing"]
    repaired = daemon.ws_json("fsck", "--repair", cwd=project)
    assert repaired["ok"]
    assert sorted((r["oid"], r["source"]) for r in repaired["repaired"]) == sorted(
        [(corrupt, "remote:origin"), (missing, "remote:origin")])
    for oid in (corrupt, missing):
        assert blake3.blake3(object_path(daemon, oid).read_bytes()).hexdigest() == oid
    daemon.ws("get", "vision/cats@1", "again", cwd=project)
    assert tree_of(project / "again") == good
    events = daemon.ws_json("audit", "--user", alice.name, cwd=project)["events"]
    sources = [e["detail"]["source"] for e in events if e["action"] == "store:object:repair"]
    assert sources == ["remote:origin", "remote:origin"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create separate Unix users")
def test_only_an_admin_may_evict(bucket: str, start_daemon: DaemonFactory, runtime: Runtime,
                                 alice: Identity) -> None:
    daemon = start_daemon(shared=True)
    project = make_project(runtime, alice, daemon, small=2, large=0)
    add_and_push(daemon, project, f"s3://{bucket}/r", default=True)
    bob = runtime.user("bob")
    daemon.ws("user", "add", bob.name, cwd=project)
    daemon.ws("role", "grant", bob.name, "maintainer", "vision/*", cwd=project)
    place = runtime.make_dir(bob, "ws-bob")
    refused = daemon.ws("gc", "--evict", cwd=place, user=bob, check=False)
    assert refused.returncode == DENIED, refused.stderr
    assert all(object_path(daemon, o).exists()
               for o in _oids(daemon, "vision/cats", project).values())


def test_fsck_reports_objects_evicted_to_a_remote_that_was_removed(
        start_daemon: DaemonFactory, runtime: Runtime, alice: Identity) -> None:
    daemon = start_daemon()
    project = make_project(runtime, alice, daemon, small=2, large=0)
    url = f"file://{runtime.make_dir(alice, 'remote')}/store"
    add_and_push(daemon, project, url)
    for path in _oids(daemon, "vision/cats", project):
        (project / "data" / path).unlink()
    assert daemon.ws_json("gc", "--evict", cwd=project)["evict"]["evicted"] == 2
    daemon.ws("remote", "rm", "origin", cwd=project)

    orphaned = daemon.ws("fsck", "--json", cwd=project, check=False)
    assert orphaned.returncode == CORRUPT
    (problem,) = json.loads(orphaned.stdout)["problems"]
    assert problem["kind"] == "evicted" and "remote origin" in problem["detail"]
    daemon.ws("remote", "add", "origin", url, "--default", cwd=project)
    assert daemon.ws_json("fsck", cwd=project)["ok"]
    daemon.ws("get", "vision/cats", "back", cwd=project)
    assert len(tree_of(project / "back")) == 2


_READ = r"""
import hashlib, json, sys
import workspace
socket = sys.argv[1]
fd = workspace.read_bytes("vision/cats", "big0.bin", socket=socket, transport="fd")
with workspace.open("vision/cats", "small/000.txt", socket=socket, transport="stream") as f:
    streamed = f.read()
print(json.dumps([hashlib.sha256(fd).hexdigest(), hashlib.sha256(streamed).hexdigest()]))
"""


def test_python_api_reads_of_evicted_files_fetch_them(
        start_daemon: DaemonFactory, runtime: Runtime, alice: Identity) -> None:
    import hashlib

    daemon = start_daemon()
    project = make_project(runtime, alice, daemon, small=1, large=1)
    add_and_push(daemon, project, f"file://{runtime.make_dir(alice, 'r')}/s")
    before = tree_of(project / "data")
    for path in before:
        (project / "data" / path).unlink()
    assert daemon.ws_json("gc", "--evict", cwd=project)["evict"]["evicted"] == 2

    proc = subprocess.run([runtime.python, "-c", _READ, str(daemon.socket)], env=daemon.env(),
                          capture_output=True, text=True, timeout=120, cwd=project,
                          **as_user(runtime, alice))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert json.loads(out) == [hashlib.sha256(before[p]).hexdigest()
                               for p in ("big0.bin", "small/000.txt")]
    assert daemon.ws_json("fsck", "--read-data", cwd=project)["evicted"] == 0

"""Faults against the real S3 server: kill -9 mid-push and mid-pull, a server that refuses
requests for a while (and for good), and a corrupted object on the remote.

Killing mid-transfer: the daemon talks to the S3 server through a proxy that
slows every connection (256 KiB/s each way), so a transfer takes seconds;
the test waits until it has visibly started (an object on the remote, or in
the pulling daemon's store), SIGSTOPs the S3 server so nothing more can
complete, kills the daemon with SIGKILL, and lets the server go on. Whatever
the daemon had not finished must not be visible anywhere.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.remotes.conftest import DaemonFactory, add_and_push, make_project
from tests.support.daemon import Daemon, as_user, give
from tests.support.runtime import Identity, Runtime
from tests.support.s3 import FaultProxy, MotoServer, daemon_env, wait_for

CORRUPT = 7
UNAVAILABLE = 6


def _background_ws(daemon: Daemon, cwd: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([daemon.runtime.python, "-m", "workspace.cli.main", *args],
                            cwd=cwd, env=daemon.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            **as_user(daemon.runtime, daemon.owner))


def _objects_in(store: Path) -> int:
    return sum(1 for p in (store / "objects").rglob("*") if p.is_file())


def _second(start_daemon: DaemonFactory, runtime: Runtime, who: Identity,
            url: str, **env: str) -> tuple[Daemon, Path]:
    daemon = start_daemon(**env)
    place = runtime.make_dir(who, "elsewhere")
    give(place, who)
    daemon.ws("init", cwd=place)
    daemon.ws("remote", "add", "origin", url, cwd=place)
    return daemon, place


def _killed_while(s3: MotoServer, daemon: Daemon, started: object) -> None:
    """Wait for ``started()``, freeze the S3 server, kill -9 the daemon, thaw the server."""
    wait_for(started, timeout=120)
    s3.pause()
    try:
        daemon.kill()
    finally:
        s3.resume()


SLOW = 256 * 1024


def test_kill_9_during_push_publishes_nothing_and_the_next_push_resumes(
        s3: MotoServer, bucket: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    slow = FaultProxy(s3.port, rate=SLOW)
    daemon = start_daemon(AWS_ENDPOINT_URL=slow.endpoint)
    project = make_project(runtime, alice, daemon, small=50, large=12)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "big", cwd=project)
    url = f"s3://{bucket}/backup"
    daemon.ws("remote", "add", "origin", url, cwd=project)
    cli = _background_ws(daemon, project, "push", "vision/cats")
    _killed_while(s3, daemon, lambda: any(k.startswith("backup/objects/")
                                          for k in s3.keys(bucket)))
    cli.wait(timeout=60)
    assert cli.returncode != 0
    keys = s3.keys(bucket)
    assert not [k for k in keys if k.startswith("backup/datasets/")]  # nothing published

    daemon.start()
    resumed = daemon.ws_json("push", "vision/cats", cwd=project)
    assert resumed["datasets"][0]["pushed"] == [1]
    assert resumed["objects"] < 62  # what reached the remote before the kill was not resent
    other, place = _second(start_daemon, runtime, alice, url)
    other.ws("pull", "vision/cats", cwd=place)
    assert other.ws_json("log", "vision/cats", cwd=place) == daemon.ws_json(
        "log", "vision/cats", cwd=project)
    slow.close()


def test_kill_9_during_pull_records_no_version_and_the_next_pull_resumes(
        s3: MotoServer, bucket: str, start_daemon: DaemonFactory, runtime: Runtime,
        alice: Identity) -> None:
    first = start_daemon()
    project = make_project(runtime, alice, first, small=10, large=12)
    url = f"s3://{bucket}/backup"
    add_and_push(first, project, url, message="big")

    slow = FaultProxy(s3.port, rate=SLOW)
    second, place = _second(start_daemon, runtime, alice, url, AWS_ENDPOINT_URL=slow.endpoint)
    cli = _background_ws(second, place, "pull", "vision/cats")
    _killed_while(s3, second, lambda: _objects_in(second.store) > 0)
    cli.wait(timeout=60)
    assert cli.returncode != 0
    second.start()
    assert second.ws_json("datasets", cwd=place)["datasets"] == []
    assert second.ws("log", "vision/cats", cwd=place, check=False).returncode == 3
    resumed = second.ws_json("pull", "vision/cats", cwd=place)
    assert resumed["pulled"] == [1]
    assert resumed["objects"] < 22  # objects verified before the kill were kept
    assert second.ws_json("log", "vision/cats", cwd=place) == first.ws_json(
        "log", "vision/cats", cwd=project)
    slow.close()


@pytest.mark.parametrize("which", ["packed", "loose"])
def test_a_corrupted_object_on_the_remote_is_refused_and_named(
        which: str, s3: MotoServer, bucket: str, start_daemon: DaemonFactory,
        runtime: Runtime, alice: Identity) -> None:
    first = start_daemon()
    project = make_project(runtime, alice, first, small=5, large=1)
    url = f"s3://{bucket}/backup"
    add_and_push(first, project, url)
    files = {f["path"]: f["oid"] for f in first.ws_json("ls", "vision/cats",
                                                        cwd=project)["files"]}
    victim = files["big0.bin"] if which == "loose" else files["small/003.txt"]
    _flip_a_byte(s3, bucket, victim, which)

    second, place = _second(start_daemon, runtime, alice, url)
    refused = second.ws("pull", "vision/cats", cwd=place, check=False)
    assert refused.returncode == CORRUPT, refused.stderr
    assert victim in refused.stderr
    assert second.ws_json("datasets", cwd=place)["datasets"] == []
    assert not (second.store / "objects" / victim[:2] / victim[2:]).exists()


def _flip_a_byte(s3: MotoServer, bucket: str, oid: str, which: str) -> None:
    client = s3.client()
    if which == "loose":
        key = f"backup/objects/{oid[:2]}/{oid[2:]}"
        offset = 100
    else:
        import json

        idx = next(k for k in s3.keys(bucket, "backup/packs/") if k.endswith(".idx"))
        entries = json.loads(client.get_object(Bucket=bucket, Key=idx)["Body"].read())
        offset = next(off for o, off, _ in entries["objects"] if o == oid)
        key = idx.removesuffix(".idx") + ".pack"
    data = bytearray(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    data[offset] ^= 0xFF
    client.put_object(Bucket=bucket, Key=key, Body=bytes(data))


def test_a_server_refusing_for_a_while_is_retried_with_back_off(
        s3: MotoServer, bucket: str, runtime: Runtime, alice: Identity) -> None:
    proxy = FaultProxy(s3.port)
    home = runtime.make_dir(alice, "home")
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env=daemon_env(proxy.endpoint)).start()
    try:
        project = make_project(runtime, alice, daemon, small=5, large=1)
        daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
        daemon.ws("remote", "add", "origin", f"s3://{bucket}/b", cwd=project)
        proxy.refuse_next = 4  # the next four connections get 503 SlowDown, then all is well
        pushed = daemon.ws_json("push", "vision/cats", cwd=project)
        assert pushed["datasets"][0]["pushed"] == [1]
        assert proxy.refused == 4  # refused, waited, asked again: the push went through
    finally:
        daemon.stop()
        proxy.close()


def test_a_server_refusing_for_good_is_a_clear_error(
        s3: MotoServer, bucket: str, runtime: Runtime, alice: Identity) -> None:
    proxy = FaultProxy(s3.port)
    home = runtime.make_dir(alice, "home")
    env = daemon_env(proxy.endpoint, WORKSPACE_REMOTE_RETRIES="3",
                     WORKSPACE_REMOTE_RETRY_TIMEOUT="5")
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env=env).start()
    try:
        project = make_project(runtime, alice, daemon, small=5, large=0)
        daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
        daemon.ws("remote", "add", "origin", f"s3://{bucket}/b", cwd=project)
        proxy.refusing = True
        started = time.monotonic()
        failed = daemon.ws("push", "vision/cats", cwd=project, check=False)
        assert failed.returncode == UNAVAILABLE, failed.stderr
        assert "retried" in failed.stderr and f"s3://{bucket}/b" in failed.stderr
        assert time.monotonic() - started < 90  # bounded: 3 retries within 5 s, generously
        assert proxy.refused >= 3
    finally:
        daemon.stop()
        proxy.close()

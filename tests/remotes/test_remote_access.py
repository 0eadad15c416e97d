"""Who may do what with remotes, with real Unix users: configuring them is an admin's,
pushing needs write on the dataset, pulling needs the right to create it here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.remotes.conftest import DaemonFactory, make_project
from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime

DENIED, INVALID = 4, 2
if os.geteuid() != 0:
    pytest.skip("needs root to create separate Unix users", allow_module_level=True)


def _member(daemon: Daemon, runtime: Runtime, admin_dir: Path, name: str,
            role: str) -> tuple[Identity, Path]:
    who = runtime.user(name)
    daemon.ws("user", "add", who.name, cwd=admin_dir)
    daemon.ws("role", "grant", who.name, role, "vision/*", cwd=admin_dir)
    place = runtime.make_dir(who, f"ws-{name}")
    place.chmod(0o777)  # the single-user daemon (alice's uid) must reach it
    return who, place


def test_remote_roles(bucket: str, start_daemon: DaemonFactory, runtime: Runtime,
                      alice: Identity) -> None:
    daemon = start_daemon(shared=True)
    project = make_project(runtime, alice, daemon, small=2, large=0)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
    (project / "notes.txt").write_text("notes\n")
    give(project / "notes.txt", alice)
    daemon.ws("add", "notes.txt", "-d", "other/notes", "-m", "n", cwd=project)
    bob, bob_dir = _member(daemon, runtime, project, "bob", "reader")
    wendy, wendy_dir = _member(daemon, runtime, project, "wendy", "writer")
    url = f"s3://{bucket}/r"

    refused = daemon.ws("remote", "add", "origin", url, cwd=bob_dir, user=bob, check=False)
    assert refused.returncode == DENIED and "may not admin admin:remotes" in refused.stderr
    leaky = daemon.ws("remote", "add", "x", f"s3://key:secret@{bucket}/r", cwd=project,
                      check=False)
    assert leaky.returncode == INVALID and "secret" not in leaky.stderr
    daemon.ws("remote", "add", "origin", url, cwd=project)
    assert [r["name"] for r in daemon.ws_json("remote", "list", cwd=bob_dir,
                                              user=bob)["remotes"]] == ["origin"]
    assert daemon.ws("remote", "rm", "origin", cwd=bob_dir, user=bob,
                     check=False).returncode == DENIED

    assert daemon.ws("push", "vision/cats", cwd=bob_dir, user=bob,
                     check=False).returncode == DENIED
    pushed = daemon.ws_json("push", "--all", cwd=wendy_dir, user=wendy)
    assert [d["dataset"] for d in pushed["datasets"]] == ["vision/cats"]  # not other/notes
    assert daemon.ws("pull", "vision/cats", cwd=bob_dir, user=bob,
                     check=False).returncode == DENIED
    assert daemon.ws("push", "other/notes", cwd=wendy_dir, user=wendy,
                     check=False).returncode == DENIED

    actions = [e["action"] for e in daemon.ws_json("audit", cwd=project)["events"]]
    assert {"remote:config:add", "remote:dataset:push", "access:request:deny"} <= set(actions)

"""Editing the policy files: a valid edit takes effect and is audited with the file's owner;
a broken one is rejected, logged, audited, and the old policy stays."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, give
from tests.support.runtime import REPO, Identity, Runtime


@pytest.fixture
def watched(runtime: Runtime, alice: Identity) -> Iterator[tuple[Daemon, Path]]:
    home = runtime.make_dir(alice, "home")
    policies = runtime.make_dir(alice, "policies")
    for name in ("model.conf", "policy.csv"):
        shutil.copy(REPO / "policies" / name, policies / name)
    give(policies, alice)
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_POLICY_DIR": str(policies)}).start()
    yield daemon, policies
    daemon.stop()


def _eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the daemon never applied the edit"
        time.sleep(0.2)


def test_a_valid_edit_takes_effect_and_is_audited(watched: tuple[Daemon, Path],
                                                  project: Path) -> None:
    daemon, policies = watched
    daemon.ws("init", cwd=project)

    def allowed() -> bool:
        answer = daemon.ws_json("policy", "check", "ci-reader", "vision/cats", "read",
                                cwd=project)
        return bool(answer["allowed"])

    assert not allowed()
    with (policies / "policy.csv").open("a") as csv:
        csv.write("g, ci-reader, reader, vision/*\n")
    _eventually(allowed)
    events = daemon.ws_json("audit", "--action", "policy:file:reload", cwd=project)["events"]
    assert events[0]["actor"] == daemon.owner.name  # the file's owner made the change


def test_a_broken_edit_is_rejected_and_the_old_policy_stays(watched: tuple[Daemon, Path],
                                                            project: Path) -> None:
    daemon, policies = watched
    daemon.ws("init", cwd=project)
    before = daemon.ws_json("policy", "list", cwd=project)["rules"]
    with (policies / "policy.csv").open("a") as csv:
        csv.write("g, someone, reader\n")  # a grant without its pattern

    def rejected() -> bool:
        answer = daemon.ws_json("audit", "--action", "policy:file:reject", cwd=project)
        return bool(answer["events"])

    _eventually(rejected)
    assert daemon.ws_json("policy", "list", cwd=project)["rules"] == before
    assert "policy" in daemon.log_path.read_text()

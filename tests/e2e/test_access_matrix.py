"""Role x operation, against the real daemon with real Unix users: each allow and each deny.

alice runs the daemon (so she is its first admin) and grants roles on
``vision/*``; every other user is a real, separate uid running the real CLI.
A denial is exit code 4 with a hint; an allowed operation must succeed
(exit 0): a crash or any other error is a failure, not an "allowed".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime

DENIED = 4
ROLES = {"bob": "reader", "wendy": "writer", "mia": "maintainer"}
# operation -> the least role that may do it
OPERATIONS = {
    "ls": "reader", "log": "reader", "blame": "reader", "diff": "reader", "get": "reader",
    "add": "writer", "commit": "writer",
    "tag": "maintainer", "prune": "maintainer", "rm": "maintainer",
    "user-list": "admin", "policy-list": "admin", "audit-all": "admin",
    "gc": "admin", "fsck": "admin", "quota-list": "admin",
}
ORDER = ["reader", "writer", "maintainer", "admin"]
if os.geteuid() != 0:
    pytest.skip("needs root to create separate Unix users", allow_module_level=True)


@pytest.fixture(scope="module")
def world(runtime: Runtime) -> Iterator[tuple[Daemon, dict[str, Identity], dict[str, Path]]]:
    alice = runtime.user("alice")
    home = runtime.make_dir(alice, "home")
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    socket_dir=runtime.make_dir(alice, "sock")).start()
    people = {name: runtime.user(name) for name in [*ROLES, "carol"]}
    people["alice"] = alice
    dirs = {name: _workspace(daemon, runtime, who) for name, who in people.items()
            if name != "carol"}
    dirs["carol"] = runtime.make_dir(people["carol"], "ws-carol")
    _seed(daemon, people, dirs)
    yield daemon, people, dirs
    daemon.stop()


def _workspace(daemon: Daemon, runtime: Runtime, who: Identity) -> Path:
    path = runtime.make_dir(who, f"ws-{who.name}")
    path.chmod(0o777)  # single-user daemon (alice's uid) must reach it; ACLs are issue 5's
    return path


def _seed(daemon: Daemon, people: dict[str, Identity], dirs: dict[str, Path]) -> None:
    alice = dirs["alice"]
    (alice / "data").mkdir()
    (alice / "data" / "labels.csv").write_text("a,1\n")
    give(alice / "data", people["alice"])
    daemon.ws("init", cwd=alice)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=alice)
    for name, role in ROLES.items():
        daemon.ws("user", "add", people[name].name, cwd=alice)
        daemon.ws("role", "grant", people[name].name, role, "vision/*", cwd=alice)
    daemon.ws("user", "add", people["carol"].name, cwd=alice)
    for name in ROLES:
        daemon.ws("init", cwd=dirs[name], user=people[name])


def _attempt(daemon: Daemon, who: Identity, cwd: Path,
             operation: str) -> subprocess.CompletedProcess[str]:
    tag = f"t-{who.name}"
    args = {
        "ls": ["ls", "vision/cats"], "log": ["log", "vision/cats"],
        "blame": ["blame", "vision/cats"], "diff": ["diff", "vision/cats@1", "vision/cats@1"],
        "get": ["get", "vision/cats", f"got-{who.name}"],
        "add": ["add", f"new-{who.name}", "-d", f"vision/{who.name}-new", "-m", "x"],
        "commit": ["commit", f"got-{who.name}", "-m", "nothing new"],
        "tag": ["tag", "vision/cats@1", tag],
        "user-list": ["user", "list"], "policy-list": ["policy", "list"],
        "audit-all": ["audit"],
        "prune": ["prune", "vision/cats", "--keep-last", "5", "--dry-run"],
        "rm": ["rm", "vision/cats@1", "--dry-run"],
        "gc": ["gc", "--dry-run"], "fsck": ["fsck"], "quota-list": ["quota", "list"],
    }[operation]
    if operation == "commit":  # needs a tracked path of one's own: check one out first
        daemon.ws("get", "vision/cats", f"got-{who.name}", cwd=cwd, user=who, check=False)
    if operation == "add":
        (cwd / f"new-{who.name}").mkdir(exist_ok=True)
        (cwd / f"new-{who.name}" / "f.txt").write_text(who.name)
        give(cwd / f"new-{who.name}", who)
    proc = daemon.ws(*args, cwd=cwd, user=who, check=False)
    assert "Traceback" not in proc.stderr
    return proc


# carol cannot read vision/cats, so she never has a tracked path to commit from.
PAIRS = [(person, operation) for person in ["alice", *ROLES, "carol"] for operation in OPERATIONS
         if (person, operation) != ("carol", "commit")]


@pytest.mark.parametrize(("person", "operation"), PAIRS)
def test_role_operation_matrix(world: tuple[Daemon, dict[str, Identity], dict[str, Path]],
                               person: str, operation: str) -> None:
    daemon, people, dirs = world
    role = "admin" if person == "alice" else ROLES.get(person)
    needed = OPERATIONS[operation]
    expected_allowed = role is not None and ORDER.index(role) >= ORDER.index(needed)
    proc = _attempt(daemon, people[person], dirs[person], operation)
    if expected_allowed:
        assert proc.returncode == 0, (
            f"{person} ({role}) should be allowed to {operation}: exit {proc.returncode}\n"
            f"{proc.stderr}")
    else:
        assert proc.returncode == DENIED, (
            f"{person} ({role}) should be denied {operation}, got {proc.returncode}")
        assert "hint: ask an admin" in proc.stderr


def test_denials_are_audited(world: tuple[Daemon, dict[str, Identity], dict[str, Path]]) -> None:
    daemon, people, dirs = world
    _attempt(daemon, people["carol"], dirs["carol"], "ls")
    events = daemon.ws_json("audit", "--action", "access:request:deny", cwd=dirs["alice"])
    assert any(e["actor"] == people["carol"].name for e in events["events"])


def test_an_unknown_unix_user_is_refused_with_whom_to_ask(
        world: tuple[Daemon, dict[str, Identity], dict[str, Path]], runtime: Runtime) -> None:
    daemon, people, _ = world
    eve = runtime.user("eve")
    where = runtime.make_dir(eve, "ws-eve")
    proc = daemon.ws("datasets", cwd=where, user=eve, check=False)
    assert proc.returncode == DENIED
    assert people["alice"].name in proc.stderr and "ws user add" in proc.stderr


def test_a_user_cannot_grant_a_role_they_do_not_hold(
        world: tuple[Daemon, dict[str, Identity], dict[str, Path]]) -> None:
    daemon, people, dirs = world
    mia = people["mia"]
    proc = daemon.ws("role", "grant", people["carol"].name, "admin", "vision/*",
                     cwd=dirs["mia"], user=mia, check=False)
    assert proc.returncode == DENIED and "does not hold" in proc.stderr
    daemon.ws("role", "grant", people["carol"].name, "reader", "vision/*", cwd=dirs["mia"],
              user=mia)
    daemon.ws("ls", "vision/cats", cwd=dirs["carol"], user=people["carol"])
    daemon.ws("role", "revoke", people["carol"].name, "reader", "vision/*", cwd=dirs["mia"],
              user=mia)


def test_removing_the_last_admin_is_refused(
        world: tuple[Daemon, dict[str, Identity], dict[str, Path]]) -> None:
    daemon, people, dirs = world
    alice = people["alice"]
    proc = daemon.ws("role", "revoke", alice.name, "admin", "*", cwd=dirs["alice"], check=False)
    assert proc.returncode == 5 and "last admin" in proc.stderr
    proc = daemon.ws("user", "disable", alice.name, cwd=dirs["alice"], check=False)
    assert proc.returncode == 5 and "last admin" in proc.stderr

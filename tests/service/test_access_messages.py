"""What people without (or who lost) a role are told: by whom, and what they can no longer use.

A service daemon with default deny; its user ``wst-svc`` is the admin. alice
writes ``shared/*``, bob reads it, carol is registered with no role.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon

pytestmark = needs_root
DENIED = 4


@pytest.fixture(scope="module")
def strict(runtime: Runtime, svc: Identity, alice_user: Identity,
           bob: Identity) -> Iterator[ServiceDaemon]:
    home = runtime.make_dir(svc, "msg-home")
    daemon = ServiceDaemon(runtime, svc, home, f"sqlite:///{home / 'workspace.db'}",
                           extra_env={"WORKSPACE_MODE": "service", "HOME": str(runtime.scratch),
                                      "WORKSPACE_ADMIN": svc.name},
                           run_dir=runtime.make_dir(svc, "msg-run")).start()
    admin = runtime.make_dir(svc, "msg-admin")
    carol = runtime.user("carol")
    for who, role in ((alice_user, "writer"), (bob, "reader"), (carol, None)):
        daemon.ws("user", "add", who.name, cwd=admin, user=svc)
        if role:
            daemon.ws("role", "grant", who.name, role, "shared/*", cwd=admin, user=svc)
    project = home_of(runtime, alice_user)
    daemon.ws("init", cwd=project, user=alice_user)
    (project / "data").mkdir()
    (project / "data" / "labels.csv").write_text("a,1\n")
    give(project, alice_user)
    daemon.ws("add", "data", "-d", "shared/cats", "-m", "v1", cwd=project, user=alice_user)
    yield daemon
    daemon.stop()


def _in_home(runtime: Runtime, daemon: ServiceDaemon, who: Identity) -> Path:
    project = home_of(runtime, who)
    daemon.ws("init", cwd=project, user=who)
    return project


def test_no_role_lists_none_and_names_whom_to_ask(runtime: Runtime,
                                                  strict: ServiceDaemon) -> None:
    carol = runtime.user("carol")
    where = _in_home(runtime, strict, carol)
    lines = strict.ws("datasets", cwd=where, user=carol).stdout.splitlines()
    assert lines[0] == "no datasets you may read"
    assert f"ask an admin ({strict.owner.name})" in lines[1]
    assert "no datasets yet" not in lines[0]
    assert strict.ws_json("datasets", cwd=where, user=carol) == {
        "datasets": [], "admins": [strict.owner.name]}


def test_a_denial_names_the_admins_to_ask(runtime: Runtime, strict: ServiceDaemon) -> None:
    carol = runtime.user("carol")
    where = runtime.make_dir(carol, "carol-anywhere")
    proc = strict.ws("ls", "shared/cats", cwd=where, user=carol, check=False)
    assert proc.returncode == DENIED
    assert (f"hint: ask an admin ({strict.owner.name}) to grant you a role on it: "
            f"`ws role grant {carol.name} ROLE PATTERN`") in proc.stderr


def test_policy_check_says_when_the_subject_is_unknown(runtime: Runtime,
                                                       strict: ServiceDaemon) -> None:
    admin = runtime.make_dir(strict.owner, "msg-check")
    check = ("policy", "check")
    out = strict.ws(*check, "nosuchuser", "shared/cats", "read", cwd=admin).stdout
    assert out.splitlines()[0].startswith("denied: nosuchuser is not a workspace user")
    out = strict.ws(*check, "group:no-such-group-x", "shared/cats", "read", cwd=admin).stdout
    assert out.splitlines()[0] == "denied: there is no Unix group no-such-group-x on the " \
                                  "daemon's machine"
    carol = runtime.user("carol").name
    assert strict.ws(*check, carol, "shared/cats", "read", cwd=admin).stdout.startswith(
        "denied\n")
    assert strict.ws_json(*check, carol, "shared/cats", "read", cwd=admin)["known"] is True
    assert strict.ws_json(*check, "nosuchuser", "shared/cats", "read", cwd=admin)[
        "known"] is False
    help_text = strict.ws(*check, "--help", cwd=admin, env={"COLUMNS": "300"}).stdout
    assert "may, on RESOURCE, do ACTION (in that order)" in help_text


def test_status_after_losing_read_says_so_and_hides_the_changes(
        runtime: Runtime, strict: ServiceDaemon, bob: Identity) -> None:
    project = _in_home(runtime, strict, bob)
    strict.ws("get", "shared/cats", "cats", cwd=project, user=bob)
    assert strict.ws("status", cwd=project, user=bob).stdout.startswith(
        "cats (shared/cats@1): clean")
    admin = runtime.make_dir(strict.owner, "msg-revoke")
    strict.ws("role", "revoke", bob.name, "reader", "shared/*", cwd=admin)
    try:
        answer = strict.ws_json("status", cwd=project, user=bob)
        assert answer["tracked"] == []
        assert answer["unreadable"] == [{"path": "cats", "dataset": "shared/cats", "version": 1}]
        out = strict.ws("status", cwd=project, user=bob).stdout
        assert out.startswith("cats (shared/cats@1): you may no longer read shared/cats")
        assert "nothing to commit" not in out
    finally:
        strict.ws("role", "grant", bob.name, "reader", "shared/*", cwd=admin)
    assert json.loads(strict.ws("status", "--json", cwd=project, user=bob).stdout)[
        "unreadable"] == []

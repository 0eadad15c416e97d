"""Read access is enforced by what the daemon links for you, and nothing else leads in.

A service daemon with default deny (no auto-registration): alice is a
writer on ``shared/*`` and adds a dataset; carol is a known user with no
role. carol gets nothing materialized, cannot list, log or blame it, and
cannot read its bytes through the store, alice's workspace, or any link.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, attempts_on, store_objects

pytestmark = needs_root
DENIED = 4
SECRET = b"name,salary\nalice,1\n"


@pytest.fixture(scope="module")
def strict(runtime: Runtime, svc: Identity) -> Iterator[ServiceDaemon]:
    """A service daemon whose admin is the service user and that registers nobody by itself."""
    home = runtime.make_dir(svc, "strict-home")
    run_dir = runtime.make_dir(svc, "strict-run")
    daemon = ServiceDaemon(runtime, svc, home, f"sqlite:///{home / 'workspace.db'}",
                           extra_env={"WORKSPACE_MODE": "service", "HOME": str(runtime.scratch),
                                      "WORKSPACE_ADMIN": svc.name},
                           run_dir=run_dir).start()
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def secret(runtime: Runtime, strict: ServiceDaemon, alice_user: Identity) -> Path:
    admin = strict.owner
    admin_dir = runtime.make_dir(admin, "strict-admin")
    strict.ws("user", "add", alice_user.name, cwd=admin_dir, user=admin)
    strict.ws("role", "grant", alice_user.name, "writer", "shared/*", cwd=admin_dir, user=admin)
    project = home_of(runtime, alice_user)
    (project / "data").mkdir(mode=0o700)
    (project / "data" / "salaries.csv").write_bytes(SECRET)
    give(project, alice_user)
    strict.ws("init", cwd=project, user=alice_user)
    strict.ws("add", "data", "-d", "shared/secret", "-m", "private", cwd=project,
              user=alice_user)
    return project


def test_carol_without_a_role_gets_nothing(runtime: Runtime, strict: ServiceDaemon,
                                           secret: Path) -> None:
    carol = runtime.user("carol")
    admin_dir = runtime.make_dir(strict.owner, "strict-admin2")
    strict.ws("user", "add", carol.name, cwd=admin_dir, user=strict.owner)
    project = home_of(runtime, carol)
    strict.ws("init", cwd=project, user=carol)
    for args in (["get", "shared/secret", "data"], ["ls", "shared/secret"],
                 ["log", "shared/secret"], ["blame", "shared/secret"],
                 ["diff", "shared/secret@1", "shared/secret@1"]):
        proc = strict.ws(*args, cwd=project, user=carol, check=False)
        assert proc.returncode == DENIED, (args, proc.stderr)
    assert not (project / "data").exists() and not (project / "data.ws").exists()
    listed = strict.ws_json("datasets", cwd=project, user=carol)["datasets"]
    assert listed == []  # she does not even learn the name


def test_carol_cannot_reach_the_bytes_through_any_path(runtime: Runtime, strict: ServiceDaemon,
                                                       secret: Path) -> None:
    carol = runtime.user("carol")
    (oid,) = [oid for oid in store_objects(strict.store)
              if (strict.store / "objects" / oid[:2] / oid[2:]).read_bytes() == SECRET]
    elsewhere = runtime.make_dir(carol, "carol-links") / "copy"
    paths = [strict.store / "objects" / oid[:2] / oid[2:],  # the object itself
             secret / "data" / "salaries.csv"]  # alice's hardlink to it
    for path in paths:
        tried = attempts_on(runtime, carol, path, elsewhere)
        assert tried["read"] != "ok" and tried["link"] != "ok", (path, tried)
    assert not elsewhere.exists()


def test_an_unknown_unix_user_is_refused_and_told_whom_to_ask(
        runtime: Runtime, strict: ServiceDaemon) -> None:
    dave = runtime.user("dave")
    where = runtime.make_dir(dave, "dave")
    proc = strict.ws("datasets", cwd=where, user=dave, check=False)
    assert proc.returncode == DENIED
    assert strict.owner.name in proc.stderr and "ws user add" in proc.stderr

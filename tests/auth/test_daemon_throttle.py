"""The login throttle, `ws user unlock` and pruning, against a real daemon on TCP.

Clients bind their sockets to different loopback addresses (127.0.0.1,
127.0.0.2, 127.0.0.3): the daemon sees each as another client address. The
back-off base is 100 ms (``login_backoff_base``) so seven paced failures take
seconds, not minutes; pruning runs every 0.2 s (``prune_interval``).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.daemon import Daemon, as_user
from tests.support.runtime import Runtime
from workspace.auth import throttle, tokens
from workspace.auth.authenticate import BAD_CREDENTIALS
from workspace.db import Database
from workspace.db.queries import credentials

PASSWORD = "correct horse battery"
BASE = 0.1


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def remote(runtime: Runtime) -> Iterator[tuple[Daemon, str]]:
    alice = runtime.user("alice")
    home = runtime.make_dir(alice, "home")
    address = f"127.0.0.1:{_free_port()}"
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_TCP": address,
                               "WORKSPACE_LOGIN_BACKOFF_BASE": str(BASE),
                               "WORKSPACE_PRUNE_INTERVAL": "0.2"}).start()
    proc = subprocess.run([runtime.python, "-m", "workspace.cli.main", "user", "passwd"],
                          input=f"{PASSWORD}\n{PASSWORD}\n", text=True, capture_output=True,
                          cwd=home, env=daemon.env(), timeout=60, **as_user(runtime, alice))
    assert proc.returncode == 0, proc.stderr
    yield daemon, f"http://{address}"
    daemon.stop()


def _login(url: str, name: str, password: str, *, source: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.post(f"{url}/v1/login", json={"name": name, "password": password})


def _message(reply: httpx.Response) -> str:
    return str(reply.json()["error"]["message"])


def _with_db(daemon: Daemon, work: Callable[[Database], object]) -> object:
    db = Database(daemon.database_url)
    try:
        return work(db)
    finally:
        db.dispose()


def _poll(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_seven_paced_wrong_logins_from_one_address_do_not_make_the_user_wait(
        remote: tuple[Daemon, str]) -> None:
    daemon, url = remote
    name = daemon.owner.name
    for n in range(7):
        if n:
            time.sleep(BASE * 2 ** (n - 1) + 0.05)  # paced: each guess waits out its back-off
        reply = _login(url, name, "not the password", source="127.0.0.2")
        assert (reply.status_code, _message(reply)) == (401, BAD_CREDENTIALS), reply.text
    owner = _login(url, name, PASSWORD, source="127.0.0.1")
    assert owner.status_code == 200, owner.text
    guesser = _login(url, name, PASSWORD, source="127.0.0.2")  # even the right password
    assert guesser.status_code == 401 and "wait" in _message(guesser)

    failures = daemon.ws_json("audit", "--action", "account:login:failure", "--user", name,
                              cwd=daemon.home)["events"]
    assert {e["detail"]["client"] for e in failures} == {"127.0.0.2"}


def test_an_admin_unlocks_a_locked_name_and_it_is_audited(remote: tuple[Daemon, str],
                                                          runtime: Runtime) -> None:
    daemon, url = remote
    name = daemon.owner.name

    def lock(db: Database) -> None:  # as a hundred failed guesses from 127.0.0.3 would
        with db.write() as session:
            row, = credentials.throttle_rows_for_update(session, name, ["127.0.0.3"],
                                                        now=datetime.now(UTC))
            row.failures, row.locked = 100, True

    _with_db(daemon, lock)
    locked = _login(url, name, PASSWORD, source="127.0.0.3")
    assert locked.status_code == 401 and "locked here" in _message(locked)
    assert "ws user unlock" in locked.json()["error"]["hint"]

    bob = runtime.user("bob")
    daemon.ws("user", "add", bob.name, cwd=daemon.home, check=False)
    refused = daemon.ws("user", "unlock", name, cwd=daemon.home, user=bob, check=False)
    assert refused.returncode == 4, refused.stderr
    done = daemon.ws("user", "unlock", name, cwd=daemon.home).stdout
    assert done.startswith(f"unlocked {name}: forgot its failed logins (from: ")
    assert "127.0.0.3" in done
    assert _login(url, name, PASSWORD, source="127.0.0.3").status_code == 200
    events = daemon.ws_json("audit", "--action", "account:user:unlock", cwd=daemon.home)
    assert [(e["actor"], e["detail"]["user"], "127.0.0.3" in e["detail"]["addresses"])
            for e in events["events"]] == [(name, name, True)]


def test_the_daemon_prunes_stale_throttle_rows_and_expired_revocations(
        remote: tuple[Daemon, str]) -> None:
    daemon, _ = remote
    now = datetime.now(UTC)

    def plant(db: Database) -> None:
        with db.write() as session:
            for client, idle in (("10.9.9.1", timedelta(days=2)), ("10.9.9.2", timedelta(0))):
                credentials.throttle_rows_for_update(session, "ghost", [client], now=now - idle)
            tokens.revoke_jti(session, "long-expired", expires_at=now - timedelta(hours=1))
            tokens.revoke_jti(session, "still-valid", expires_at=now + timedelta(hours=1))

    def left(db: Database) -> tuple[list[str], bool, bool]:
        with db.read() as session:
            return ([r.client for r in throttle.states(session, "ghost")],
                    credentials.jwt_is_revoked(session, "long-expired"),
                    credentials.jwt_is_revoked(session, "still-valid"))

    _with_db(daemon, plant)
    _poll(lambda: _with_db(daemon, left) == (["10.9.9.2"], False, True),
          "the stale rows pruned, the others kept")

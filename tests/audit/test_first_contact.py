"""Unknown local users against a real daemon: each refusal is in the audit log and the
daemon log (a burst aggregated into counts), and auto-registration records its grant.

The daemon runs as alice with its socket in a public directory; the strangers
are other real Unix users (so the suite must run as root to create them).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.service.conftest import needs_root
from tests.support.daemon import Daemon
from tests.support.runtime import Identity, Runtime
from tests.support.service import run_python

pytestmark = needs_root

_REQUESTS = r"""
import json, sys, httpx
socket, count = sys.argv[1], int(sys.argv[2])
with httpx.Client(transport=httpx.HTTPTransport(uds=socket), timeout=30) as client:
    replies = [client.get("http://ws/v1/health") for _ in range(count)]
print(json.dumps([[r.status_code, r.json()] for r in replies]))
"""


def _daemon(runtime: Runtime, **env: str) -> Daemon:
    alice = runtime.user("alice")
    home = runtime.make_dir(alice, "home")
    return Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                  extra_env=env, socket_dir=runtime.make_dir(alice, "run")).start()


@pytest.fixture(scope="module")
def daemon(runtime: Runtime) -> Iterator[Daemon]:
    """Refusal counts are written every second (``audit_refusal_window``)."""
    running = _daemon(runtime, WORKSPACE_AUDIT_REFUSAL_WINDOW="1")
    yield running
    running.stop()


def _requests(daemon: Daemon, who: Identity, count: int) -> list[tuple[int, Any]]:
    proc = run_python(daemon.runtime, who, _REQUESTS, str(daemon.socket), str(count))
    return [(status, body) for status, body in json.loads(proc.stdout)]


def _refusals(daemon: Daemon, who: Identity) -> list[dict[str, Any]]:
    events = daemon.ws_json("audit", "--action", "access:user:refuse", "--user", who.name,
                            cwd=daemon.home)["events"]
    return [event["detail"] for event in reversed(events)]


def _poll(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.1)


def test_an_unknown_user_is_refused_in_the_audit_log_and_the_daemon_log(
        daemon: Daemon, runtime: Runtime) -> None:
    stranger = runtime.user("stranger")
    (status, body), = _requests(daemon, stranger, 1)
    assert status == 403 and "is not a workspace user" in body["error"]["message"]
    details = _refusals(daemon, stranger)
    assert [(d["uid"], d["reason"], d["count"]) for d in details] == [
        (stranger.uid, "unknown_user", 1)]
    line = f"refused Unix user {stranger.name} (uid {stranger.uid}): is not a workspace user"
    assert line in daemon.log_path.read_text()


def test_a_burst_of_refusals_is_counted_not_written_a_hundred_times(
        daemon: Daemon, runtime: Runtime) -> None:
    stranger = runtime.user("intruder")
    replies = _requests(daemon, stranger, 100)
    assert {status for status, _ in replies} == {403}
    _poll(lambda: sum(int(d["count"]) for d in _refusals(daemon, stranger)) == 100,
          "counts adding up to the 100 refusals")
    details = _refusals(daemon, stranger)
    assert details[0]["count"] == 1 and len(details) <= 20, details  # not 100 rows, not 0
    assert any(d.get("repeated") for d in details)
    assert "more times between" in daemon.log_path.read_text()


def test_auto_registration_records_the_role_it_grants(runtime: Runtime) -> None:
    daemon = _daemon(runtime, WORKSPACE_AUTO_REGISTER_ROLE="reader")
    try:
        newcomer = runtime.user("newcomer")
        (status, body), = _requests(daemon, newcomer, 1)
        assert status == 200 and body["user"] == newcomer.name
        grants = daemon.ws_json("audit", "--action", "policy:role:grant", "--user",
                                newcomer.name, cwd=daemon.home)["events"]
        assert [e["detail"] for e in grants] == [
            {"subject": newcomer.name, "role": "reader", "pattern": "*", "new": True,
             "reason": "auto_register_role"}]
    finally:
        daemon.stop()

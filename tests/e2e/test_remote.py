"""The remote door: the same API over TCP, authenticated by JWT (password login) or API token.

Forged tokens are made the way an attacker would (PyJWT with no key, a wrong
key, missing claims) and sent to the real daemon; each gets 401 with the one
error shape, and nothing else.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest

from tests.support.daemon import Daemon, as_user, give
from tests.support.runtime import Identity, Runtime

PASSWORD = "correct horse battery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def remote(runtime: Runtime, alice: Identity, project: Path) -> Iterator[tuple[Daemon, str]]:
    home = runtime.make_dir(alice, "home")
    url = f"127.0.0.1:{_free_port()}"
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_TCP": url}).start()
    (project / "data").mkdir()
    (project / "data" / "a.csv").write_text("a,1\n")
    give(project, alice)
    daemon.ws("init", cwd=project)
    daemon.ws("add", "data", "-d", "vision/cats", "-m", "v1", cwd=project)
    yield daemon, f"http://{url}"
    daemon.stop()


def _set_password(daemon: Daemon, cwd: Path) -> None:
    proc = subprocess.run([daemon.runtime.python, "-m", "workspace.cli.main", "user", "passwd"],
                          input=f"{PASSWORD}\n{PASSWORD}\n", text=True, capture_output=True,
                          cwd=cwd, env=daemon.env(), timeout=60,
                          **as_user(daemon.runtime, daemon.owner))
    assert proc.returncode == 0, proc.stderr


def _login(url: str, name: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/login", json={"name": name, "password": password}, timeout=30)


def test_password_login_gives_a_token_that_works_over_tcp(
        remote: tuple[Daemon, str], project: Path) -> None:
    daemon, url = remote
    _set_password(daemon, project)
    reply = _login(url, daemon.owner.name, PASSWORD)
    assert reply.status_code == 200
    token = reply.json()["token"]
    answer = httpx.get(f"{url}/v1/datasets", headers={"Authorization": f"Bearer {token}"})
    assert [d["name"] for d in answer.json()["datasets"]] == ["vision/cats"]
    assert httpx.get(f"{url}/v1/datasets").status_code == 401

    events = daemon.ws_json("audit", "--action", "account:login:success", cwd=project)["events"]
    assert events and events[0]["actor"] == daemon.owner.name


def test_wrong_password_and_unknown_user_get_the_same_answer(
        remote: tuple[Daemon, str], project: Path) -> None:
    daemon, url = remote
    _set_password(daemon, project)
    wrong = _login(url, daemon.owner.name, "not the password")
    unknown = _login(url, "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    failures = daemon.ws_json("audit", "--action", "account:login:failure", cwd=project)
    assert {e["actor"] for e in failures["events"]} == {daemon.owner.name, "nobody-here"}


def _forgeries(secret_guess: bytes) -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {"sub": "1", "iss": "workspace", "aud": "workspace-api", "jti": "x",
              "iat": now, "nbf": now, "exp": now + timedelta(hours=1)}
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = base64.urlsafe_b64encode(json.dumps({**claims, "iat": int(now.timestamp()),
                                                "nbf": int(now.timestamp()),
                                                "exp": int(now.timestamp()) + 3600}).encode())
    expired = {**claims, "iat": now - timedelta(hours=3), "nbf": now - timedelta(hours=3),
               "exp": now - timedelta(hours=2)}
    return {
        "alg none": f"{header.decode().rstrip('=')}.{body.decode().rstrip('=')}.",
        "wrong key": jwt.encode(claims, secret_guess, algorithm="HS256"),
        "expired (wrong key too)": jwt.encode(expired, secret_guess, algorithm="HS256"),
        "missing claims": jwt.encode({"sub": "1"}, secret_guess, algorithm="HS256"),
        "garbage": "not.a.token",
        "api token shape": "ws_0123456789abcdef_" + "x" * 43,
    }


def test_forged_tokens_are_refused_with_one_error_shape(remote: tuple[Daemon, str]) -> None:
    _, url = remote
    for name, token in _forgeries(b"k" * 32).items():
        reply = httpx.get(f"{url}/v1/datasets", headers={"Authorization": f"Bearer {token}"})
        assert reply.status_code == 401, name
        assert reply.json() == {"error": {
            "code": "authentication_required", "message": "invalid or expired token",
            "hint": reply.json()["error"].get("hint")}}, name


def test_a_logged_out_token_is_refused(remote: tuple[Daemon, str],
                                                     project: Path) -> None:
    daemon, url = remote
    assert (daemon.home / "jwt-secret").stat().st_mode & 0o777 == 0o600
    _set_password(daemon, project)
    token = _login(url, daemon.owner.name, PASSWORD).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.post(f"{url}/v1/logout", headers=auth).status_code == 200
    assert httpx.get(f"{url}/v1/datasets", headers=auth).status_code == 401


def test_an_api_token_authenticates_a_robot_until_revoked(remote: tuple[Daemon, str],
                                                          project: Path) -> None:
    daemon, url = remote
    daemon.ws("user", "add", "ci-bot", "--robot", cwd=project)
    daemon.ws("role", "grant", "ci-bot", "reader", "vision/*", cwd=project)
    created = daemon.ws_json("token", "create", "ci-bot", "--name", "ci", "--expires", "90d",
                             cwd=project)
    auth = {"Authorization": f"Bearer {created['token']}"}
    assert httpx.get(f"{url}/v1/ls", params={"ref": "vision/cats"}, headers=auth).is_success
    assert httpx.get(f"{url}/v1/users", headers=auth).status_code == 403
    daemon.ws("token", "revoke", created["id"], cwd=project)
    time.sleep(0.1)
    assert httpx.get(f"{url}/v1/ls", params={"ref": "vision/cats"},
                     headers=auth).status_code == 401

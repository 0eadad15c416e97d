"""The remote door: `ws login`/`logout`, the stored token, and `--server` with a bearer."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli import answers as a
from tests.cli.access_harness import TcpFake, run_ws, serving_tcp
from tests.cli.cli_harness import Run
from workspace.client.credentials import normalize_server
from workspace.errors import InvalidInput

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJlLXNlY3JldA"
API_TOKEN = "ws_t2_robot-token-secret"
PASSWORD = "correct horse battery"
LATER = (datetime.now(UTC) + timedelta(hours=1)).isoformat()


@pytest.fixture
def remote() -> Iterator[TcpFake]:
    with serving_tcp() as fake:
        fake.reply("POST", "/v1/login", a.login(JWT, LATER))
        fake.reply("GET", "/v1/datasets", a.datasets())
        yield fake


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def ws(tmp_path: Path, config: Path) -> Any:
    """The real CLI with its own config dir and no local daemon at all."""
    base = {"XDG_CONFIG_HOME": str(config), "WORKSPACE_SOCKET": str(tmp_path / "none.sock")}

    def run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> Run:
        return run_ws(*args, cwd=tmp_path, env={**base, **(env or {})}, stdin=stdin)

    return run


def _login(ws: Any, remote: TcpFake) -> Run:
    run = ws("login", "--server", remote.url, "--user", "alice", stdin=PASSWORD + "\n")
    assert run.code == 0, run.err
    return run


def _stored(config: Path) -> dict[str, Any]:
    return dict(json.loads((config / "workspace" / "credentials.json").read_text())["servers"])


def test_login_stores_the_token_0600_and_never_prints_it(
    ws: Any, remote: TcpFake, config: Path
) -> None:
    run = _login(ws, remote)
    assert remote.sent("/v1/login")[0].body == {"name": "alice", "password": PASSWORD}
    path = config / "workspace" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert _stored(config)[remote.url]["token"] == JWT
    assert JWT not in run.out + run.err
    assert PASSWORD not in run.out + run.err
    assert f"logged in to {remote.url} as alice" in run.out
    assert [p.name for p in path.parent.iterdir()] == ["credentials.json"]  # no temp left


def test_server_option_sends_the_stored_token_as_bearer(ws: Any, remote: TcpFake) -> None:
    _login(ws, remote)
    assert ws("--server", remote.url + "/", "datasets").code == 0
    assert ws("datasets", env={"WORKSPACE_SERVER": remote.url}).code == 0
    assert remote.bearers("/v1/datasets") == [f"Bearer {JWT}"] * 2
    assert remote.bearers("/v1/login") == [None]


def test_workspace_token_wins_over_the_stored_login(ws: Any, remote: TcpFake) -> None:
    _login(ws, remote)
    run = ws("--server", remote.url, "datasets", env={"WORKSPACE_TOKEN": API_TOKEN})
    assert run.code == 0, run.err
    assert remote.bearers("/v1/datasets") == [f"Bearer {API_TOKEN}"]


def test_no_token_for_the_server_says_to_log_in(ws: Any, remote: TcpFake) -> None:
    run = ws("--server", remote.url, "datasets")
    assert run.code == 4
    assert f"run `ws login --server {remote.url}`" in run.err
    assert remote.requests == []


def test_a_401_says_to_log_in_again(ws: Any, remote: TcpFake) -> None:
    _login(ws, remote)
    remote.error("GET", "/v1/datasets", "authentication_required", 401, "invalid or expired")
    run = ws("--server", remote.url, "datasets")
    assert run.code == 4
    assert "error: invalid or expired" in run.err
    assert f"hint: run `ws login --server {remote.url}` again" in run.err
    robot = ws("--server", remote.url, "datasets", env={"WORKSPACE_TOKEN": API_TOKEN})
    assert "WORKSPACE_TOKEN was refused" in robot.err


def test_a_wrong_password_keeps_the_daemons_answer_and_stores_nothing(
    ws: Any, remote: TcpFake, config: Path
) -> None:
    remote.error("POST", "/v1/login", "authentication_required", 401, "invalid name or password")
    run = ws("login", "--server", remote.url, "--user", "alice", stdin="nope\n")
    assert run.code == 4
    assert "invalid name or password" in run.err
    assert "hint for authentication_required" in run.err
    assert not (config / "workspace" / "credentials.json").exists()


def test_logins_to_two_servers_are_kept_apart(ws: Any, remote: TcpFake, config: Path) -> None:
    _login(ws, remote)
    with serving_tcp() as other:
        other.reply("POST", "/v1/login", a.login("other-jwt", LATER, "a"))
        ws("login", "--server", other.url, "--user", "a", stdin="pw\n")
    tokens = {url: login["token"] for url, login in _stored(config).items()}
    assert tokens == {remote.url: JWT, other.url: "other-jwt"}


def test_logout_ends_the_session_and_forgets_the_token(
    ws: Any, remote: TcpFake, config: Path
) -> None:
    _login(ws, remote)
    remote.reply("POST", "/v1/logout", {"user": "alice", "logged_out": True})
    run = ws("logout", env={"WORKSPACE_SERVER": remote.url})
    assert run.code == 0, run.err
    assert remote.bearers("/v1/logout") == [f"Bearer {JWT}"]
    assert _stored(config) == {}
    assert ws("--server", remote.url, "datasets").code == 4
    assert "not logged in" in ws("logout", "--server", remote.url).out


def test_logout_forgets_a_token_the_daemon_no_longer_takes(
    ws: Any, remote: TcpFake, config: Path
) -> None:
    _login(ws, remote)
    remote.error("POST", "/v1/logout", "authentication_required", 401)
    assert ws("logout", "--server", remote.url).code == 0
    assert _stored(config) == {}


def test_logout_that_fails_on_the_daemon_still_forgets_and_says_so(
    ws: Any, remote: TcpFake, config: Path
) -> None:
    _login(ws, remote)
    remote.error("POST", "/v1/logout", "internal", 500, "database is locked")
    run = ws("logout", "--server", remote.url)
    assert run.code == 1
    assert "the token was forgotten here anyway; the daemon accepts it until" in run.err
    assert _stored(config) == {}


def test_an_expired_login_is_not_even_sent(ws: Any, remote: TcpFake, config: Path) -> None:
    remote.reply("POST", "/v1/login", a.login(JWT, "2020-01-01T00:00:00+00:00"))
    _login(ws, remote)
    run = ws("--server", remote.url, "datasets")
    assert run.code == 4
    assert "expired" in run.err
    assert remote.sent("/v1/datasets") == []


def test_a_credentials_file_others_may_read_is_refused(
    ws: Any, remote: TcpFake, config: Path
) -> None:
    _login(ws, remote)
    os.chmod(config / "workspace" / "credentials.json", 0o644)
    run = ws("--server", remote.url, "datasets")
    assert run.code == 4
    assert "chmod 600" in run.err
    assert remote.sent("/v1/datasets") == []


def test_login_needs_a_server(ws: Any) -> None:
    run = ws("login", "--user", "alice", stdin=PASSWORD + "\n")
    assert run.code == 2
    assert "--server URL" in run.err


def test_a_server_that_is_not_there_exits_6(ws: Any, tmp_path: Path) -> None:
    with serving_tcp() as gone:
        url = gone.url
    run = ws("login", "--server", url, "--user", "alice", stdin=PASSWORD + "\n")
    assert run.code == 6
    assert f"no workspace daemon answers at {url}" in run.err


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("http://Host:8470/", "http://host:8470"),
        ("HTTPS://ws.example.org/api/", "https://ws.example.org/api"),
    ],
)
def test_normalize_server(given: str, normal: str) -> None:
    assert normalize_server(given) == normal


@pytest.mark.parametrize("bad", ["host:8470", "ftp://host", "http://u:p@host", "http://h/?a=1"])
def test_normalize_server_refuses_what_is_not_a_plain_url(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_server(bad)


def test_an_explicit_socket_beats_workspace_server(
    ws: Any, remote: TcpFake, tmp_path: Path
) -> None:
    run = ws("--socket", str(tmp_path / "none.sock"), "datasets",
             env={"WORKSPACE_SERVER": remote.url})  # fmt: skip
    assert run.code == 6  # it tried the (absent) socket, not the server
    assert remote.requests == []


@pytest.mark.parametrize(
    ("url", "warned"),
    [("http://data.example.org", True), ("https://data.example.org", False),
     ("http://localhost:8470", False), ("http://[::1]:8470", False)],
)  # fmt: skip
def test_login_warns_about_plain_http_off_this_machine(
    url: str, warned: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from workspace.cli.commands_users import _warn_if_cleartext

    _warn_if_cleartext(url)
    assert ("unencrypted" in capsys.readouterr().err) is warned

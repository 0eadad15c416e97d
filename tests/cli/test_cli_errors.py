"""Errors reach the user as `error:`/`hint:` lines and stable exit codes, never tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli import answers as a
from tests.cli.cli_harness import REPO, FakeDaemon, run_cli


@pytest.mark.parametrize(
    ("code", "status", "exit_code"),
    [
        ("not_found", 404, 3),
        ("permission_denied", 403, 4),
        ("conflict", 409, 5),
        ("store_corrupt", 500, 7),
    ],
)
def test_daemon_error_becomes_its_exit_code(
    ws: Any, fake: FakeDaemon, code: str, status: int, exit_code: int
) -> None:
    fake.error("GET", "/v1/datasets", code, status, message="dataset vision/dogs does not exist")
    run = ws("datasets")
    assert run.code == exit_code
    assert "error: dataset vision/dogs does not exist" in run.err
    assert f"hint: hint for {code}" in run.err
    assert "Traceback" not in run.err
    assert run.out == ""


def test_json_flag_prints_the_error_payload_on_stderr(ws: Any, fake: FakeDaemon) -> None:
    fake.error("GET", "/v1/datasets", "not_found", 404)
    run = ws("datasets", "--json")
    assert run.code == 3
    assert json.loads(run.err)["error"]["code"] == "not_found"


def test_no_daemon_at_all_exits_6_and_says_how_to_start_one(tmp_path: Path) -> None:
    missing = tmp_path / "nobody.sock"
    run = run_cli("--socket", str(missing), "status", cwd=tmp_path, home=tmp_path)
    assert run.code == 6
    assert f"no workspace daemon is listening on {missing}" in run.err
    assert "`ws serve`" in run.err
    assert "Traceback" not in run.err


def test_stale_socket_file_is_unreachable_too(tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.close()  # the file stays, nobody listens: connection refused
    run = run_cli("--socket", str(path), "datasets", "--json", cwd=tmp_path, home=tmp_path)
    assert run.code == 6
    assert json.loads(run.err)["error"]["code"] == "daemon_unreachable"


def test_socket_defaults_to_workspace_socket_variable(tmp_path: Path, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/datasets", a.datasets())
    env = {"WORKSPACE_SOCKET": str(fake.socket)}
    run = run_cli("datasets", cwd=tmp_path, home=tmp_path, env=env)
    assert run.code == 0, run.err
    assert run.out.startswith("no datasets you may read\n(to read existing ones, ask an admin "
                              "(alice)")


def test_unreadable_answer_is_an_error_not_a_traceback(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/datasets", ["not", "an", "object"], malformed=True)
    run = ws("datasets")
    assert run.code == 1
    assert "unexpected shape" in run.err


def test_usage_errors_exit_2(ws: Any) -> None:
    run = ws("add", "data")
    assert run.code == 2
    assert "--dataset" in run.err


def test_invalid_dataset_name_is_refused_before_calling_the_daemon(
    ws: Any, fake: FakeDaemon
) -> None:
    run = ws("add", "data", "-d", "Vision/Cats", "-m", "x")
    assert run.code == 2
    assert "not a valid dataset name" in run.err
    assert fake.requests == []


def test_version(tmp_path: Path) -> None:
    run = run_cli("--version", cwd=tmp_path, home=tmp_path)
    assert run.code == 0
    assert run.out.strip() == "ws 0.1.0"


def test_every_command_and_option_has_help() -> None:
    from typer.main import get_command

    from workspace.cli.app import app

    root = get_command(app)
    commands = getattr(root, "commands", {})
    assert {"init", "add", "commit", "status", "unlock", "checkout", "get", "serve"} <= set(
        commands
    )
    for name, command in commands.items():
        assert command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name}"


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"WORKSPACE_HOME": "/srv/ws"},
        {"WORKSPACE_HOME": "~/elsewhere"},
        {"WORKSPACE_SOCKET": "/run/workspace/ws.sock"},
        {"WORKSPACE_SOCKET": "rel.sock", "WORKSPACE_HOME": "/srv/ws"},
    ],
)
def test_default_socket_agrees_with_settings(env: dict[str, str], monkeypatch: Any) -> None:
    for key in list(os.environ):
        if key.upper().startswith("WORKSPACE_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from workspace.client.connect import default_socket
    from workspace.config import Settings

    assert default_socket() == Settings.load().socket_path


def test_default_socket_reads_the_config_file(tmp_path: Path, monkeypatch: Any) -> None:
    config = tmp_path / "ws.toml"
    config.write_text('socket = "/srv/custom.sock"\n')
    monkeypatch.setenv("WORKSPACE_CONFIG", str(config))
    monkeypatch.delenv("WORKSPACE_SOCKET", raising=False)
    from workspace.client.connect import default_socket

    assert default_socket() == Path("/srv/custom.sock")


def test_starting_the_cli_loads_neither_httpx_nor_rich_nor_pydantic() -> None:
    code = (
        "import sys, workspace.cli.main; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'rich', 'pydantic'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_a_config_file_read_once_does_not_leak_into_later_settings(
        tmp_path: Path, monkeypatch: Any) -> None:
    """Settings.load(file) once, then Settings() elsewhere in the same process: the file's
    values must not stick (an xdist worker ran a service-mode check with another test's socket)."""
    for key in list(os.environ):
        if key.upper().startswith("WORKSPACE_"):
            monkeypatch.delenv(key)
    config = tmp_path / "ws.toml"
    config.write_text('socket = "/srv/custom.sock"\n')
    from workspace.config import Settings

    assert Settings.load(config).socket_path == Path("/srv/custom.sock")
    assert Settings(home=tmp_path).socket_path == tmp_path / "ws.sock"

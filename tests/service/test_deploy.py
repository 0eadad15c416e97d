"""deploy/ holds what an admin installs; these check it is valid and agrees with itself.

With systemd's tools present (they are on Debian, even where systemd is not
running) the unit is checked by `systemd-analyze verify`, and the sysusers
and tmpfiles snippets are applied to a scratch root; the unit is also parsed,
so the keys this project relies on are checked everywhere.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.service.conftest import AS_ROOT
from workspace.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "workspace.service"
CONFIG_PATH = "/etc/workspace/workspace.toml"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def _settings() -> Settings:
    return Settings.load(DEPLOY / "workspace.toml")


def _lines(path: Path) -> list[list[str]]:
    return [re.findall(r'"[^"]*"|\S+', line) for line in path.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_unit_runs_ws_serve_as_the_service_user_with_its_directories() -> None:
    service = _unit()["Service"]
    assert set(_unit().sections()) == {"Unit", "Service", "Install"}
    assert service["User"] == service["Group"] == "workspace"
    assert service["ExecStart"].split()[1:] == ["serve", "--config", CONFIG_PATH]
    assert service["ExecStart"].split()[0].endswith("/ws")
    assert (service["RuntimeDirectory"], service["StateDirectory"], service["LogsDirectory"]) == (
        "workspace", "workspace", "workspace")
    assert service["RuntimeDirectoryMode"] == "0755"  # users must reach the socket
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def test_unit_hardening_leaves_users_workspaces_reachable() -> None:
    service = _unit()["Service"]
    assert service["ProtectHome"] == "no"
    assert service["ProtectSystem"] in ("full", "yes") or "ReadWritePaths" in service
    assert service["PrivateTmp"] == "no"
    for breaking in ("PrivateUsers", "ProcSubset", "DynamicUser"):
        assert breaking not in service, f"{breaking} would hide uids, peers or /proc/sys"
    # Peers' groups come from the socket, so other users' processes may stay hidden.
    assert service["ProtectProc"] == "invisible"
    assert service["NoNewPrivileges"] == "yes" and service["CapabilityBoundingSet"] == ""


def test_config_loads_as_service_mode_and_matches_the_unit() -> None:
    settings, service = _settings(), _unit()["Service"]
    assert settings.mode == "service"
    assert settings.socket_path == Path("/run") / service["RuntimeDirectory"] / "ws.sock"
    assert settings.home == Path("/var/lib") / service["StateDirectory"]
    assert settings.admin is not None


def test_commented_postgresql_example_loads(tmp_path: Path) -> None:
    text = (DEPLOY / "workspace.toml").read_text()
    example = re.search(r"^# (database_url = .*)$", text, re.MULTILINE)
    assert example is not None and "postgresql+psycopg://" in example.group(1)
    config = tmp_path / "workspace.toml"
    config.write_text(text + "\n" + example.group(1) + "\n")
    assert Settings.load(config).db_url.startswith("postgresql+psycopg://")


def test_sysusers_and_tmpfiles_lines_agree_with_the_unit() -> None:
    (user,) = _lines(DEPLOY / "workspace.sysusers.conf")
    assert user[:2] == ["u", "workspace"] and user[3].startswith('"')
    assert user[4] == "/var/lib/workspace" and user[5] == "/usr/sbin/nologin"
    entries = {line[1]: line for line in _lines(DEPLOY / "workspace.tmpfiles.conf")}
    assert set(entries) == {"/var/lib/workspace", "/var/log/workspace", "/run/workspace"}
    for line in entries.values():
        assert line[0] == "d" and re.fullmatch(r"0[0-7]{3}", line[2]), line
        assert line[3:5] == ["workspace", "workspace"] and line[5] == "-"
    assert entries["/var/lib/workspace"][2] == "0700"
    assert entries["/run/workspace"][2] == "0755"


def test_profile_snippet_points_users_at_the_socket() -> None:
    env = {"PATH": "/usr/bin:/bin"}
    shown = subprocess.run(["sh", "-c", f". {DEPLOY / 'workspace.sh'}; echo $WORKSPACE_SOCKET"],
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert shown == str(_settings().socket_path)
    mine = subprocess.run(["sh", "-c", f". {DEPLOY / 'workspace.sh'}; echo $WORKSPACE_SOCKET"],
                          env={**env, "WORKSPACE_SOCKET": "/x.sock"}, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert mine == "/x.sock"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    """verify wants ExecStart's program to exist: point it at a stand-in, change nothing else."""
    stand_in = tmp_path / "ws"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    unit = tmp_path / "workspace.service"
    unit.write_text(UNIT.read_text().replace("/opt/workspace/bin/ws", str(stand_in)))
    proc = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                          text=True, env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"})
    assert proc.returncode == 0, proc.stderr
    assert "Unknown" not in proc.stderr and "ignoring" not in proc.stderr, proc.stderr


@pytest.mark.skipif(not AS_ROOT or shutil.which("systemd-sysusers") is None
                    or shutil.which("systemd-tmpfiles") is None,
                    reason="needs root and systemd-sysusers/-tmpfiles")
def test_sysusers_and_tmpfiles_apply_to_a_scratch_root(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    subprocess.run(["systemd-sysusers", f"--root={tmp_path}",
                    str(DEPLOY / "workspace.sysusers.conf")], check=True, capture_output=True)
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert re.search(r"^workspace:x:\d+:\d+:workspace daemon:/var/lib/workspace:"
                     r"/usr/sbin/nologin$", passwd, re.MULTILINE), passwd
    subprocess.run(["systemd-tmpfiles", f"--root={tmp_path}", "--create",
                    str(DEPLOY / "workspace.tmpfiles.conf")], check=True, capture_output=True)
    uid = int(passwd.split("workspace:x:")[1].split(":")[0])
    for path, mode in (("var/lib/workspace", 0o700), ("run/workspace", 0o755),
                       ("var/log/workspace", 0o750)):
        st = (tmp_path / path).stat()
        assert (st.st_mode & 0o7777, st.st_uid) == (mode, uid), path

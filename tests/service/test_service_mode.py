"""Service mode refuses the set-ups its safety cannot rest on: root, and no protected_hardlinks."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.service.conftest import AS_ROOT
from tests.support.runtime import Runtime
from tests.support.service import ServiceDaemon
from workspace.config import Settings
from workspace.daemon import check_service_mode, require_protected_hardlinks
from workspace.errors import InvalidInput, PermissionDenied


def _settings(tmp_path: Path) -> Settings:
    return Settings(mode="service", home=tmp_path / "home", socket=tmp_path / "run" / "ws.sock")


def _sysctl(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "protected_hardlinks"
    path.write_text(value)
    return path


def test_refuses_root(tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied) as refused:
        check_service_mode(_settings(tmp_path), euid=0, sysctl=_sysctl(tmp_path, "1\n"))
    assert "root" in refused.value.message
    assert "deploy/workspace.service" in str(refused.value.hint)
    assert 'mode = "single"' in str(refused.value.hint)


def test_refuses_without_protected_hardlinks(tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied) as refused:
        check_service_mode(_settings(tmp_path), euid=1000, sysctl=_sysctl(tmp_path, "0\n"))
    message = refused.value.message
    assert "fs.protected_hardlinks is 0" in message
    assert "hardlink" in message and "after gc" in message and "revoked" in message
    assert "sysctl -w fs.protected_hardlinks=1" in str(refused.value.hint)


def test_protected_hardlinks_unreadable_is_refused_too(tmp_path: Path) -> None:
    with pytest.raises(PermissionDenied, match="unreadable"):
        require_protected_hardlinks(tmp_path / "missing")


def test_accepts_an_unprivileged_user_with_protected_hardlinks(tmp_path: Path) -> None:
    check_service_mode(_settings(tmp_path), euid=1000, sysctl=_sysctl(tmp_path, "1\n"))


def test_refuses_a_socket_nobody_could_reach(tmp_path: Path) -> None:
    settings = Settings(mode="service", home=tmp_path / "home")  # socket: home/ws.sock, 0700
    with pytest.raises(InvalidInput, match="no user could connect"):
        check_service_mode(settings, euid=1000, sysctl=_sysctl(tmp_path, "1"))


@pytest.mark.skipif(not AS_ROOT, reason="needs to start the daemon as root")
def test_ws_serve_as_root_in_service_mode_exits_before_touching_anything(
        runtime: Runtime, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": runtime.pythonpath, "HOME": str(tmp_path),
           "WORKSPACE_MODE": "service", "WORKSPACE_HOME": str(home),
           "WORKSPACE_SOCKET": str(tmp_path / "run" / "ws.sock"), "LANG": "C.UTF-8"}
    proc = subprocess.run([runtime.python, "-m", "workspace.cli.main", "serve"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 4, proc.stderr
    assert "service mode refuses to run as root" in proc.stderr
    assert "hint:" in proc.stderr and not home.exists()


def test_this_machine_has_protected_hardlinks() -> None:
    """The sharing tests rely on it; if this fails, they prove nothing here."""
    if not os.path.exists("/proc/sys/fs/protected_hardlinks"):
        pytest.skip("no /proc/sys/fs/protected_hardlinks")
    require_protected_hardlinks()


@pytest.mark.skipif(not AS_ROOT, reason="needs the service daemon (Unix users)")
def test_the_service_daemon_keeps_its_home_and_store_private(service: ServiceDaemon) -> None:
    for private in (service.home, service.store, service.store / "objects"):
        st = private.stat()
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (0o700, service.owner.uid), private

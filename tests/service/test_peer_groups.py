"""Group roles belong to the process that connected, not to whoever holds its PID later.

A Unix group ``wst-team-XXXX`` (unique to this module, removed at the end)
holds ``reader`` on ``secret/*``. carol is a registered user with no role.
Her process opens a socket, forks, the child connects and exits; root then
steers the kernel (``/proc/sys/kernel/ns_last_pid``) so that a process of a
team member is born with the child's PID. carol's first request on the
connection she inherited must still be carol's, with carol's groups: 403.
The daemon used to read the groups from ``/proc/<peer pid>/status`` at that
first request, and answered 200.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.service.conftest import needs_root
from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime

pytestmark = needs_root
NS_LAST_PID = Path("/proc/sys/kernel/ns_last_pid")
PLACEMENT_TRIES = 500
SCENARIOS = 5
SECRET = "secret/salaries"

_CONNECT_IN_A_CHILD = r"""
import os, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
child = os.fork()
if child == 0:
    sock.connect(sys.argv[1])  # SO_PEERCRED/SO_PEERGROUPS: this child's credentials
    os._exit(0)
os.waitpid(child, 0)
print(child, flush=True)
sys.stdin.readline()  # the test puts another user's process on the child's PID
sock.sendall(b"GET /v1/ls?ref=" + sys.argv[2].encode() + b" HTTP/1.1\r\nhost: ws\r\n"
             b"connection: close\r\n\r\n")
answer = b""
while chunk := sock.recv(65536):
    answer += chunk
print(answer.split(b"\r\n", 1)[0].decode(), flush=True)
"""


@dataclass(frozen=True)
class Team:
    group: str
    gid: int
    member: Identity


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    """A group and a member, both unique to this module (global state: removed after)."""
    suffix = secrets.token_hex(3)
    group, member = f"wst-team-{suffix}", f"wst-tm-{suffix}"
    subprocess.run(["groupadd", "--system", group], check=True)
    try:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--shell",
                        "/usr/sbin/nologin", "--groups", group, member], check=True)
        try:
            entry = pwd.getpwnam(member)
            yield Team(group, grp.getgrnam(group).gr_gid,
                       Identity(member, entry.pw_uid, entry.pw_gid))
        finally:
            subprocess.run(["userdel", member], check=False)
    finally:
        subprocess.run(["groupdel", group], check=False)


@pytest.fixture(scope="module")
def daemon(runtime: Runtime, team: Team) -> Iterator[Daemon]:
    """alice's daemon (she is its admin) on a socket other users reach; the team reads
    ``secret/*``; carol is known and holds no role."""
    alice = runtime.user("alice")
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                     socket_dir=runtime.make_dir(alice, "sock"),
                     extra_env={"WORKSPACE_REQUEST_HEADER_TIMEOUT": "120"}).start()
    project = runtime.make_dir(alice, "project")
    (project / "data").mkdir()
    (project / "data" / "salaries.csv").write_text("name,salary\nalice,1\n")
    give(project, alice)
    running.ws("init", cwd=project)
    running.ws("add", "data", "-d", SECRET, "-m", "private", cwd=project)
    for name in (runtime.user("carol").name, team.member.name):
        running.ws("user", "add", name, cwd=project)
    running.ws("role", "grant", f"group:{team.group}", "reader", "secret/*", cwd=project)
    yield running
    running.stop()


def _ws_ls(runtime: Runtime, daemon: Daemon, who: Identity,
           groups: list[int]) -> subprocess.CompletedProcess[str]:
    """``ws ls secret/salaries`` run by ``who`` holding exactly ``groups`` besides its own."""
    return subprocess.run([runtime.python, "-m", "workspace.cli.main", "ls", SECRET, "--json"],
                          cwd="/", env=daemon.env(), capture_output=True, text=True,
                          timeout=60, user=who.uid, group=who.gid, extra_groups=groups)


def test_a_member_of_the_group_gets_its_role_over_the_socket(
        runtime: Runtime, daemon: Daemon, team: Team) -> None:
    member = team.member
    login_groups = os.getgrouplist(member.name, member.gid)  # what a login would give
    assert team.gid in login_groups
    proc = _ws_ls(runtime, daemon, member, login_groups)
    assert proc.returncode == 0, proc.stderr
    assert "salaries.csv" in proc.stdout
    # The same user without the group in the connecting process: no role.
    assert _ws_ls(runtime, daemon, member, []).returncode == 4


def test_a_reused_pid_does_not_lend_its_groups_to_an_inherited_connection(
        runtime: Runtime, daemon: Daemon, team: Team) -> None:
    for _ in range(SCENARIOS):  # a PID taken for good by someone else: start over
        status_line = _connect_from_a_reused_pid(runtime, daemon, team)
        if status_line is not None:
            break
    else:
        pytest.fail(f"could not place a process on the attacker's PID in {SCENARIOS} tries")
    assert status_line.split(" ")[1:2] == ["403"], status_line


def _connect_from_a_reused_pid(runtime: Runtime, daemon: Daemon, team: Team) -> str | None:
    """The attacker's child connects, exits, the team member is born on its PID, then the
    attacker uses the inherited connection: its status line (None: the PID could not be
    had)."""
    carol = runtime.user("carol")
    attacker = subprocess.Popen(
        [runtime.python, "-c", _CONNECT_IN_A_CHILD, str(daemon.socket), SECRET],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd="/",
        user=carol.uid, group=carol.gid, extra_groups=[])
    assert attacker.stdin is not None and attacker.stdout is not None
    try:
        child_pid = int(attacker.stdout.readline())
        impostor = _born_with_pid(child_pid, team)
        if impostor is None:
            return None
        try:
            assert team.gid in _proc_groups(child_pid)  # /proc/PID now shows the team
            attacker.stdin.write("go\n")
            attacker.stdin.flush()
            return attacker.stdout.readline().strip()
        finally:
            impostor.kill()
            impostor.wait()
    finally:
        attacker.kill()
        attacker.wait()


def _born_with_pid(pid: int, team: Team) -> subprocess.Popen[bytes] | None:
    """A process of the team member with exactly ``pid``; None if it cannot be had.

    ``ns_last_pid`` is global and other processes fork at any moment, so
    write it, fork, and check; retry (waiting while someone else holds the
    PID) a bounded number of times. A process that keeps the PID (a daemon's
    worker started meanwhile by a test running alongside) makes it None. It
    is a counter, not a setting: nothing to restore.
    """
    member = team.member
    for _ in range(PLACEMENT_TRIES):
        if Path(f"/proc/{pid}").exists():
            time.sleep(0.01)  # another process took it; it may end
            continue
        NS_LAST_PID.write_text(str(pid - 1))
        proc = subprocess.Popen(["/bin/sleep", "120"], cwd="/", user=member.uid,
                                group=member.gid, extra_groups=[team.gid])
        if proc.pid == pid and _owner(pid) == member.uid:
            return proc
        proc.kill()
        proc.wait()
    return None


def _owner(pid: int) -> int:
    return os.stat(f"/proc/{pid}").st_uid


def _proc_groups(pid: int) -> set[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Groups:"):
            return {int(g) for g in line.split()[1:]}
    return set()

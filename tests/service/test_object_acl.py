"""Read access enforced by the kernel: object ACLs follow the policy, for real users' processes.

A strict service daemon (no auto-registration; admin: the service user).
alice writes, bob may read some datasets, carol holds no role at all; every
home is 0755, as Debian's ``useradd -m`` makes them, so nothing but the
objects' ACLs stands between carol and the bytes. Every read is attempted by
a new process of that user (with the Unix groups a login gets now).

Each test makes its own datasets (random bytes: no object is shared between
tests) and its own grants, so tests do not depend on each other's order.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.service.acl_support import (
    POLL_INTERVAL,
    eventually,
    open_home,
    readers,
    reads,
    write_files,
    ws,
    ws_json,
)
from tests.service.conftest import needs_root
from tests.support.daemon import give
from tests.support.runtime import REPO, Identity, Runtime
from tests.support.service import ServiceDaemon

pytestmark = needs_root
MAX_ENTRIES = 2  # the limit case without creating 500 Unix users


@dataclass
class Site:
    daemon: ServiceDaemon
    admin_dir: Path
    policies: Path
    people: dict[str, Identity]

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return ws(self.daemon, self.daemon.owner, *args, cwd=self.admin_dir, check=check)

    def as_(self, who: str, *args: str, cwd: Path,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        return ws(self.daemon, self.people[who], *args, cwd=cwd, check=check)


@pytest.fixture(scope="module")
def site(runtime: Runtime, svc: Identity) -> Iterator[Site]:
    home = runtime.make_dir(svc, "acl-home")
    run_dir = runtime.make_dir(svc, "acl-run")
    policies = runtime.make_dir(svc, "acl-policies")
    for name in ("model.conf", "policy.csv"):
        shutil.copy(REPO / "policies" / name, policies / name)
    give(policies, svc)
    daemon = ServiceDaemon(runtime, svc, home, f"sqlite:///{home / 'workspace.db'}",
                           extra_env={"WORKSPACE_MODE": "service", "HOME": str(runtime.scratch),
                                      "WORKSPACE_ADMIN": svc.name,
                                      "WORKSPACE_POLICY_DIR": str(policies),
                                      "WORKSPACE_ACL_POLL_INTERVAL": POLL_INTERVAL,
                                      "WORKSPACE_ACL_MAX_ENTRIES": str(MAX_ENTRIES)},
                           run_dir=run_dir).start()
    people = {name: runtime.user(name) for name in ("alice", "bob", "carol", "dave")}
    found = Site(daemon, runtime.make_dir(svc, "acl-admin"), policies, people)
    for who in people.values():
        found.admin("user", "add", who.name)
    found.admin("role", "grant", people["alice"].name, "writer", "*")
    yield found
    daemon.stop()


@dataclass
class Shared:
    dataset: str
    alice_data: Path
    bob_project: Path
    bob_data: Path
    files: list[str]


def share(site: Site, runtime: Runtime, reader: str = "bob") -> Shared:
    """alice adds a new dataset (one executable: a private copy) and ``reader`` gets it."""
    name = f"t{secrets.token_hex(4)}"
    files = {"labels.csv": os.urandom(64), "images/a.bin": os.urandom(5000),
             "bin/run.sh": b"#!/bin/sh\necho " + secrets.token_hex(8).encode() + b"\n"}
    alice = site.people["alice"]
    alice_project = open_home(runtime, alice)
    write_files(alice_project / "data", alice, files, executable=("bin/run.sh",))
    site.as_("alice", "init", cwd=alice_project)
    site.as_("alice", "add", "data", "-d", f"{name}/data", "-m", "first", cwd=alice_project)
    site.admin("role", "grant", site.people[reader].name, "reader", f"{name}/*")
    project = open_home(runtime, site.people[reader])
    site.as_(reader, "init", cwd=project)
    site.as_(reader, "get", f"{name}/data", "data", cwd=project)
    return Shared(f"{name}/data", alice_project / "data", project, project / "data", list(files))


def test_carol_reads_nothing_through_any_open_home_while_bob_reads_everything(
        site: Site, runtime: Runtime) -> None:
    shared = share(site, runtime)
    alice, bob, carol = (site.people[n] for n in ("alice", "bob", "carol"))
    paths = [root / f for root in (shared.alice_data, shared.bob_data) for f in shared.files]
    got = reads(runtime, carol, paths)
    assert set(got.values()) == {"EACCES"}, got
    assert set(reads(runtime, bob, paths[len(shared.files):]).values()) == {"ok"}
    at_alice = reads(runtime, bob, paths[:len(shared.files)])  # the same inodes, but for
    assert at_alice.pop(str(shared.alice_data / "bin" / "run.sh")) == "EACCES"  # her own copy
    assert set(at_alice.values()) == {"ok"}

    labels = shared.bob_data / "labels.csv"
    assert stat.S_IMODE(labels.stat().st_mode) == 0o440  # 0400 + ACL (mask in group bits)
    assert readers(labels).users == {alice.uid, bob.uid}
    copy = shared.bob_data / "bin" / "run.sh"  # an executable: bob's private copy
    assert copy.stat().st_uid == site.daemon.owner.uid and copy.stat().st_nlink == 1
    assert stat.S_IMODE(copy.stat().st_mode) & 0o077 == 0o050  # 0500, mask r-x, other none
    assert readers(copy).users == {bob.uid}
    assert readers(shared.alice_data / "bin" / "run.sh").users == {alice.uid}  # hers, likewise


def test_a_revoke_reaches_bobs_links_within_seconds_and_a_regrant_restores_them(
        site: Site, runtime: Runtime) -> None:
    shared = share(site, runtime)
    bob = site.people["bob"]
    paths = [shared.bob_data / f for f in shared.files]
    site.admin("role", "revoke", bob.name, "reader", shared.dataset.split("/")[0] + "/*")
    took = eventually(lambda: set(reads(runtime, bob, paths).values()) == {"EACCES"},
                      "bob's own process is refused every file, the copy too")
    print(f"revoke reached bob's links in {took:.2f} s")

    status = ws_json(site.daemon, bob, "status", cwd=shared.bob_project)
    assert status["tracked"] == []  # what bob may no longer read is listed apart
    assert [e["path"] for e in status["unreadable"]] == ["data"]
    text = site.as_("bob", "status", cwd=shared.bob_project).stdout
    assert "no longer read" in text and "ws untrack data" in text
    events = site.admin("audit", "--action", "acl:objects:revoke", "--json").stdout
    assert f"user:{bob.name}" in events and shared.dataset in events

    site.admin("role", "grant", bob.name, "reader", shared.dataset.split("/")[0] + "/*")
    eventually(lambda: set(reads(runtime, bob, paths).values()) == {"ok"},
               "a re-grant restores read on the links bob already has")


def test_untrack_removes_what_bob_can_no_longer_read_and_keeps_his_own_files(
        site: Site, runtime: Runtime) -> None:
    shared = share(site, runtime)
    bob = site.people["bob"]
    mine = shared.bob_data / "notes.txt"
    mine.write_text("mine")
    give(mine, bob)
    site.admin("role", "revoke", bob.name, "reader", shared.dataset.split("/")[0] + "/*")
    answer = ws_json(site.daemon, bob, "untrack", "data", cwd=shared.bob_project)
    assert answer["removed"] == len(shared.files)
    assert sorted(p.name for p in shared.bob_data.rglob("*") if p.is_file()) == ["notes.txt"]
    assert ws_json(site.daemon, bob, "status", cwd=shared.bob_project)["tracked"] == []
    assert (shared.alice_data / "labels.csv").exists()  # alice's links are hers


def test_a_deny_rule_added_to_the_policy_file_takes_bobs_read_away(
        site: Site, runtime: Runtime) -> None:
    shared = share(site, runtime)
    bob = site.people["bob"]
    paths = [shared.bob_data / f for f in shared.files]
    policy = site.policies / "policy.csv"
    before = policy.read_text()
    try:
        with policy.open("a") as csv:
            csv.write(f"p, {bob.name}, {shared.dataset}, read, deny\n")
        eventually(lambda: set(reads(runtime, bob, paths).values()) == {"EACCES"},
                   "a deny rule in policy.csv reaches bob's links")
    finally:
        policy.write_text(before)
    eventually(lambda: set(reads(runtime, bob, paths).values()) == {"ok"},
               "removing the rule gives read back")


def test_disabling_bob_takes_his_read_away_and_enabling_gives_it_back(
        site: Site, runtime: Runtime) -> None:
    shared = share(site, runtime)
    bob = site.people["bob"]
    paths = [shared.bob_data / f for f in shared.files]
    site.admin("user", "disable", bob.name)
    try:
        eventually(lambda: set(reads(runtime, bob, paths).values()) == {"EACCES"},
                   "a disabled account reads nothing")
    finally:
        site.admin("user", "enable", bob.name)
    eventually(lambda: set(reads(runtime, bob, paths).values()) == {"ok"}, "enabled again")


@pytest.fixture
def team(runtime: Runtime) -> Iterator[str]:
    name = f"wst-tm{secrets.token_hex(3)}"  # unique: this test changes its members
    subprocess.run(["groupadd", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["groupdel", name], check=False)


def test_a_group_role_reads_through_one_group_entry_and_leaving_the_group_ends_it(
        site: Site, runtime: Runtime, team: str) -> None:
    bob, carol = site.people["bob"], site.people["carol"]
    subprocess.run(["gpasswd", "-a", bob.name, team], check=True, capture_output=True)
    prefix = f"g{secrets.token_hex(4)}"
    site.admin("role", "grant", f"group:{team}", "reader", f"{prefix}/*")
    alice = site.people["alice"]
    alice_project = open_home(runtime, alice)
    write_files(alice_project / "data", alice, {"x.bin": os.urandom(300)})
    site.as_("alice", "init", cwd=alice_project)
    site.as_("alice", "add", "data", "-d", f"{prefix}/data", "-m", "team data",
             cwd=alice_project)
    project = open_home(runtime, bob)
    site.as_("bob", "init", cwd=project)
    site.as_("bob", "get", f"{prefix}/data", "data", cwd=project)  # as a member of the group
    path = project / "data" / "x.bin"
    import grp

    found = readers(path)
    assert found.groups == {grp.getgrnam(team).gr_gid} and bob.uid not in found.users
    assert reads(runtime, bob, [path]) == {str(path): "ok"}
    assert reads(runtime, carol, [path]) == {str(path): "EACCES"}  # not a member

    subprocess.run(["gpasswd", "-d", bob.name, team], check=True, capture_output=True)
    assert reads(runtime, bob, [path]) == {str(path): "EACCES"}  # his next process, at once


def test_one_reader_past_the_acl_limit_is_refused_with_a_way_out(
        site: Site, runtime: Runtime) -> None:
    shared = share(site, runtime)  # alice and bob: MAX_ENTRIES names on every object
    dave = site.people["dave"]
    site.admin("role", "grant", dave.name, "reader", shared.dataset.split("/")[0] + "/*")
    project = open_home(runtime, dave)
    site.as_("dave", "init", cwd=project)
    refused = site.as_("dave", "get", shared.dataset, "data", cwd=project, check=False)
    assert refused.returncode == 5, refused.stderr
    assert "ACL entries" in refused.stderr and "ws role grant group:" in refused.stderr
    assert not (project / "data").exists() or not any((project / "data").rglob("*.bin"))
    assert readers(shared.bob_data / "labels.csv").users == {
        site.people["alice"].uid, site.people["bob"].uid}


def test_acl_changes_do_not_make_the_daemon_read_bobs_data_again(
        site: Site, runtime: Runtime) -> None:
    """Every ACL change moves the ctime of the objects it touches: another user's first
    checkout of a shared dataset does it to every inode bob holds (here: bob's own read
    taken and given back, as this site allows two readers per object). Only the daemon
    (or root) can write those read-only objects, so bob's next checkout (which compares
    his files with their version first) trusts his stat cache instead of reading every
    file again (relatime: a read after the ctime moved
    moves the atime). Eight users checking out one dataset at once re-read it per user."""
    shared = share(site, runtime)
    bob = site.people["bob"]
    linked = [shared.bob_data / "labels.csv", shared.bob_data / "images" / "a.bin"]
    before = {path: path.stat() for path in linked}
    scope = shared.dataset.split("/")[0] + "/*"
    site.admin("role", "revoke", bob.name, "reader", scope)
    eventually(lambda: set(reads(runtime, bob, linked).values()) == {"EACCES"}, "revoked")
    site.admin("role", "grant", bob.name, "reader", scope)
    eventually(lambda: all(bob.uid in readers(p).users for p in linked), "given back")
    moved = {path: path.stat() for path in linked}
    assert all(moved[p].st_ctime_ns > before[p].st_ctime_ns for p in linked)

    answer = ws_json(site.daemon, bob, "checkout", "data", cwd=shared.bob_project)
    assert answer["summary"]["linked"] == 0 and answer["summary"]["unchanged"] == 3
    assert {p: p.stat().st_atime_ns for p in linked} == {
        p: moved[p].st_atime_ns for p in linked}

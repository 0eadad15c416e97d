"""The ACLs `ws init` writes, read back by the reference tool (getfacl), and taken back.

The grant is written as raw extended attributes (workspace/cli/acl.py); these
tests check the kernel accepts it, that getfacl reads exactly the intended
entries, that symlinks and other people's files are left alone, and that
revoking restores the permission bits as they were.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.conftest import AS_ROOT, home_of, needs_root
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon
from workspace.cli import acl

SERVICE = 64123  # any uid: ACL entries name numeric ids
ME = os.geteuid()


@pytest.fixture(scope="module")
def getfacl() -> str:
    """getfacl, installed from Debian's `acl` package when missing (and we may)."""
    found = shutil.which("getfacl")
    if found is None and AS_ROOT:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "acl"]
        if subprocess.run(install, capture_output=True, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
            subprocess.run(install, capture_output=True, env=env)
        found = shutil.which("getfacl")
    if found is None:
        pytest.skip("getfacl (Debian package `acl`) is not installed")
    return found


def _entries(getfacl: str, path: Path) -> list[str]:
    out = subprocess.run([getfacl, "--numeric", "--omit-header", "--absolute-names", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("#")[0].strip() for line in out.splitlines() if line.strip()]


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "data" / "deep").mkdir(parents=True)
    root.chmod(0o750)
    (root / "data" / "deep" / "f.bin").write_bytes(b"x")
    (root / "data" / "deep" / "f.bin").chmod(0o600)
    (root / "notes.txt").write_text("n")
    return root


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_mode for p in [root, *root.rglob("*")]}


def test_grant_is_what_getfacl_reads(tmp_path: Path, getfacl: str) -> None:
    root = _tree(tmp_path)
    changed = acl.grant_tree(root, SERVICE, umask=0o027)
    assert (changed.directories, changed.files) == (3, 2)
    named_defaults = [f"default:user:{uid}:rwx" for uid in sorted({ME, SERVICE})]
    assert _entries(getfacl, root) == [
        "user::rwx", f"user:{SERVICE}:rwx", "group::r-x", "mask::rwx", "other::---",
        "default:user::rwx", *named_defaults,  # the owner's own entry: see acl.py
        "default:group::r-x", "default:mask::rwx", "default:other::---",  # 0750 less umask 027
    ]
    assert _entries(getfacl, root / "data" / "deep" / "f.bin") == [
        "user::rw-", f"user:{SERVICE}:r--", "group::---", "mask::r--", "other::---"]


def test_new_files_inherit_the_grant(tmp_path: Path, getfacl: str) -> None:
    root = _tree(tmp_path)
    acl.grant_tree(root, SERVICE, umask=0o022)
    (root / "data" / "new").mkdir()
    (root / "data" / "new" / "made-later.txt").write_text("y")
    later = _entries(getfacl, root / "data" / "new" / "made-later.txt")
    assert f"user:{SERVICE}:rwx" in later and "mask::rw-" in later  # effective: rw-
    assert f"default:user:{SERVICE}:rwx" in _entries(getfacl, root / "data" / "new")


def test_revoke_restores_the_permission_bits(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = _modes(root)
    acl.grant_tree(root, SERVICE, umask=0o022)
    assert _modes(root) != before  # the mask shows in the group bits
    acl.revoke_tree(root, SERVICE)
    assert _modes(root) == before
    for path in [root, *root.rglob("*")]:
        assert os.listxattr(path, follow_symlinks=False) == []


def test_symlinks_and_other_peoples_files_are_left_alone(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "data" / "escape").symlink_to(outside)
    (root / "data" / "theirs.txt").write_text("t")
    if AS_ROOT:
        os.chown(root / "data" / "theirs.txt", 4242, 4242)
    acl.grant_tree(root, SERVICE, umask=0o022)
    assert os.listxattr(outside) == []
    if AS_ROOT:
        assert os.listxattr(root / "data" / "theirs.txt") == []


def test_ancestors_get_search_only_and_lose_it_when_no_workspace_needs_it(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "a").mkdir(parents=True)
    (home / "b").mkdir()
    home.chmod(0o700)
    granted = acl.grant_ancestors(home / "a", SERVICE)  # and pytest's 0700 dirs above, if ours
    assert granted[0] == str(home)
    assert acl.decode(os.getxattr(home, acl.ACCESS))[(acl.USER, SERVICE)] == acl.X
    assert acl.grant_ancestors(home / "b", SERVICE) == []  # already searchable
    assert acl.revoke_ancestors(home / "a", SERVICE, keep_for=[str(home / "b")]) == []
    assert acl.revoke_ancestors(home / "b", SERVICE, keep_for=[]) == granted
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


@pytest.fixture
def no_acl_dir(runtime: Runtime, alice_user: Identity) -> Iterator[Path]:
    """A directory of alice's on a file system without ACLs (ramfs)."""
    mount = runtime.make_dir(alice_user, "ramfs")
    if subprocess.run(["mount", "-t", "ramfs", "none", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a ramfs here")
    try:
        os.chown(mount, alice_user.uid, alice_user.gid)
        mount.chmod(0o755)
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@needs_root
def test_init_on_a_file_system_without_acls_says_what_to_do(
        service: ServiceDaemon, alice_user: Identity, no_acl_dir: Path) -> None:
    refused = service.ws("init", cwd=no_acl_dir, user=alice_user, check=False)
    assert refused.returncode == 2
    assert "does not support POSIX ACLs" in refused.stderr
    assert "single-user daemon (`ws serve`)" in refused.stderr
    assert service.ws("status", cwd=no_acl_dir, user=alice_user, check=False).returncode == 3


@needs_root
def test_init_grants_and_the_daemon_reaches_a_private_home(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity) -> None:
    project = home_of(runtime, alice_user)
    answer = service.ws_json("init", cwd=project, user=alice_user)
    assert answer["access"]["user"] == service.owner.name
    assert answer["access"]["ancestors"] == [str(project.parent)]
    assert stat.S_IMODE(project.parent.stat().st_mode) & 0o007 == 0  # still private to others

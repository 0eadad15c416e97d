"""The ACL size limit: measured on this filesystem, refused with a clear error, nothing half-done.

ext4 keeps an inode's ACL in one 4 KiB xattr block: 503 named entries here
(docs/design.md). The daemon refuses at ``acl_max_entries`` (500 by default)
or at the filesystem's own limit, whichever comes first, with AclFull.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acl.conftest import AclEnv, needs_root
from tests.support.runtime import Identity, Runtime
from workspace import posixacl
from workspace.db.queries import acl as q
from workspace.errors import AclFull, InvalidInput
from workspace.store import ObjectStore
from workspace.store.acl import DEFAULT_MAX_ENTRIES, Readers


def _fits(path: Path, named: int) -> bool:
    try:
        posixacl.write(str(path), posixacl.with_mask(
            {**posixacl.from_mode(0o400), **{(posixacl.USER, 100000 + i): posixacl.R
                                            for i in range(named)}}))
    except OSError as exc:
        assert exc.errno in posixacl.TOO_BIG
        return False
    return True


def filesystem_limit(directory: Path) -> int:
    """The most named entries one file's ACL can hold here (binary search, as root or owner)."""
    probe = directory / "probe"
    probe.write_bytes(b"")
    low, high = 0, 100_000
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _fits(probe, middle) else (low, middle - 1)
    return low


def _users(count: int) -> Readers:
    return Readers(users=frozenset(200000 + i for i in range(count)))


def test_the_store_refuses_past_the_filesystems_limit_and_past_its_own(tmp_path: Path) -> None:
    limit = filesystem_limit(tmp_path)
    assert limit >= DEFAULT_MAX_ENTRIES  # ext4 here: 503 (one 4 KiB block)
    with ObjectStore.open(tmp_path / "store", private=True, max_acl_entries=10**6) as store:
        source = tmp_path / "source"
        source.write_bytes(b"popular")
        with source.open("rb") as handle, store.batch() as batch:
            oid = batch.ingest_copy(handle.fileno()).oid
        store.set_readers(oid, _users(limit))
        with pytest.raises(AclFull) as refused:
            store.set_readers(oid, _users(limit + 1))  # the kernel's ENOSPC, as AclFull
        assert store.readers(oid) == _users(limit)  # unchanged
        store.max_acl_entries = DEFAULT_MAX_ENTRIES
        with pytest.raises(AclFull) as capped:
            store.set_readers(oid, _users(DEFAULT_MAX_ENTRIES + 1))
    for error in (refused.value, capped.value):
        assert "group" in (error.hint or "") and error.exit_code == 5


@needs_root
def test_a_grant_past_the_limit_is_refused_and_leaves_no_entry_or_row(
        env: AclEnv, runtime: Runtime) -> None:
    env.store.max_acl_entries = 2
    people: list[Identity] = [runtime.user(name) for name in ("bob", "carol", "dave")]
    bob, carol, dave = (env.user(who) for who in people)
    for caller in (bob, carol):
        env.grant_role(caller.name, "reader", "shared/*")
    oids = env.objects(b"one", b"two")
    env.acl.grant(bob, "shared/x", oids)
    env.acl.grant(carol, "shared/x", oids)
    env.grant_role(dave.name, "reader", "shared/*")
    with pytest.raises(AclFull):
        env.acl.grant(dave, "shared/x", oids)
    assert all(env.readers(oid).users == {bob.uid, carol.uid} for oid in oids)
    with env.db.read() as session:
        claims = q.claims(session, env.core.store_id, oids)
    assert {c.ident for c in claims} == {bob.uid, carol.uid}  # dave's rows were taken back


@pytest.fixture
def no_acl_fs(tmp_path: Path) -> Iterator[Path]:
    """A filesystem without extended attributes (ramfs), mounted for this test only."""
    mount = tmp_path / "ramfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "ramfs", "ramfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@needs_root
def test_a_service_store_on_a_filesystem_without_acls_is_refused(no_acl_fs: Path) -> None:
    with ObjectStore.open(no_acl_fs / "store", private=True) as store, \
            pytest.raises(InvalidInput) as refused:
        store.require_acl_support()
    assert "without POSIX ACLs" in refused.value.message and "ext4" in (refused.value.hint or "")

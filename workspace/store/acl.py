"""Who may read an object, as the kernel sees it: POSIX ACLs on objects and private copies.

In service mode an object is mode 0400 (its owner, the daemon's user, reads
it; "other" nothing) and carries one ACL entry per reader: ``user:UID:r``,
``group:GID:r``, and ``user:UID:---`` for a user who is in a reading group
but may not read (a named user entry takes precedence over group entries in
the kernel's check, so it blocks exactly that user). The mask is ``r`` and
the owning group nothing, so ``ls -l`` shows ``-r--r-----+``. Every hardlink
shares the inode and so the ACL: whichever path reaches the object, the
kernel asks the ACL, not the directories on the way.

A private copy (an executable, a copy across filesystems or past the link
limit) is the daemon's file in one user's workspace: 0400 (0500 for an
executable) with ``user:OWNER:r`` (``r-x``) while the owner may read it.

This module only writes what it is told; who should read what is decided by
``workspace/acl/``. Entries are whole-ACL writes (one ``setxattr``), so the
mode bits and the entries change together, atomically.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workspace import posixacl
from workspace.errors import AclFull, InvalidInput
from workspace.posixacl import GROUP, GROUP_OBJ, NO_ID, OTHER, USER, USER_OBJ, Acl, R, X

DEFAULT_MAX_ENTRIES = 500
"""Named entries allowed per object; ext4 holds 503 here (one 4 KiB xattr block)."""


@dataclass(frozen=True, slots=True)
class Readers:
    """The principals an ACL names: readers, and users blocked from a reading group."""

    users: frozenset[int] = field(default_factory=frozenset)
    groups: frozenset[int] = field(default_factory=frozenset)
    blocked: frozenset[int] = field(default_factory=frozenset)

    @property
    def named(self) -> int:
        return len(self.users | self.blocked) + len(self.groups)

    def union(self, other: Readers) -> Readers:
        return _union(self, other)


@functools.lru_cache(maxsize=4096)
def _union(one: Readers, other: Readers) -> Readers:
    users = one.users | other.users
    return Readers(users, one.groups | other.groups, (one.blocked | other.blocked) - users)


NOBODY = Readers()


def object_acl(readers: Readers, *, execute: bool = False) -> Acl:
    """The whole ACL for ``readers``: owner ``r`` (``r-x``), group and other nothing."""
    perm = R | X if execute else R
    acl: Acl = {(USER_OBJ, NO_ID): perm, (GROUP_OBJ, NO_ID): 0, (OTHER, NO_ID): 0}
    acl.update({(USER, uid): 0 for uid in readers.blocked})
    acl.update({(USER, uid): perm for uid in readers.users})
    acl.update({(GROUP, gid): perm for gid in readers.groups})
    return posixacl.with_mask(acl)


@functools.lru_cache(maxsize=4096)
def _encoded(readers: Readers, execute: bool) -> bytes:
    """Most objects of a batch share their readers: encode each set once (a revoke of 100,000
    objects spent a third of its time building the same value again)."""
    return posixacl.encode(object_acl(readers, execute=execute))


def readers_of(acl: Acl | None) -> Readers:
    """The principals an object's ACL names (an object with no ACL names nobody)."""
    if acl is None:
        return NOBODY
    users = frozenset(i for (tag, i), perm in acl.items() if tag == USER and perm & R)
    blocked = frozenset(i for (tag, i), perm in acl.items() if tag == USER and not perm & R)
    groups = frozenset(i for (tag, i), perm in acl.items() if tag == GROUP and perm & R)
    return Readers(users, groups, blocked)


def write(target: int | str, readers: Readers, *, what: str, execute: bool = False,
          max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
    """Give ``target`` (an fd, or a path not followed at its end) exactly this ACL.

    Raises AclFull when more principals are named than ``max_entries`` or the
    filesystem can hold; nothing changes then.
    """
    if readers.named > max_entries:
        raise _full(what, readers.named, max_entries)
    try:
        posixacl.write_encoded(target, _encoded(readers, execute))
    except OSError as exc:
        if exc.errno in posixacl.TOO_BIG:
            raise _full(what, readers.named, max_entries) from None
        raise


def read(target: int | str) -> Readers:
    value = posixacl.read_encoded(target)
    return NOBODY if value is None else _decoded(value)


@functools.lru_cache(maxsize=4096)
def _decoded(value: bytes) -> Readers:
    """Objects of one dataset share their readers: decode each ACL value once (8 users
    checking out one dataset at once spent a sixth of the daemon's Python here)."""
    return readers_of(posixacl.decode(value))


def add_readers(target: int | str, extra: Readers, *, what: str, max_entries: int) -> bool:
    """Name ``extra`` in ``target``'s ACL too; False if it already did (nothing written)."""
    current = read(target)
    wanted = current.union(extra)
    if wanted == current:
        return False
    write(target, wanted, what=what, max_entries=max_entries)
    return True


def object_target(objects_fd: int, relpath: str) -> str:
    """A path naming an object through the store's open directory fd (never re-resolved)."""
    return f"/proc/self/fd/{objects_fd}/{relpath}"


def require_support(dir_fd: int, where: str) -> None:
    """Refuse a store on a filesystem that cannot hold POSIX ACLs (service mode needs them)."""
    name = f".acl-probe.{secrets.token_hex(4)}"
    fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                 dir_fd=dir_fd)
    try:
        write(fd, NOBODY, what=where)
    except OSError as exc:
        if exc.errno not in posixacl.UNSUPPORTED:
            raise
        raise InvalidInput(
            f"the store {where} is on a filesystem without POSIX ACLs: in service mode every "
            "object's ACL names who may read it",
            hint="put the store on ext4, xfs or btrfs (mounted with ACL support), or run a "
            "single-user daemon") from None
    finally:
        os.close(fd)
        os.unlink(name, dir_fd=dir_fd)


def _full(what: str, wanted: int, limit: int) -> AclFull:
    return AclFull(
        f"{what} would need {wanted} named ACL entries (users and groups who may read it), "
        f"more than the {limit} one file can carry",
        hint="ask an admin to grant the role to a Unix group (`ws role grant group:NAME ROLE "
        "PATTERN`) instead of user by user: one group entry covers all its members",
        details={"entries": wanted, "limit": limit})


def add_in_one_pass(wanted: Sequence[tuple[Sequence[str], Readers]],
                    add: Callable[[str, Readers], None]) -> list[tuple[str | None, AclFull | None]]:
    """Several sets of readers for several (sorted) lists of objects, one ``add`` per object.

    Each object gets the union of the readers of every list that holds it: the
    same ACL as adding them list after list. When the union does not fit, each
    list's readers are tried alone (in order) so those that fit still get in; a
    list refused there stops at that object and adds nothing after it. Returns,
    per list, the object it stopped at and why (``(None, None)``: all added).
    """
    members = [frozenset(oids) for oids, _ in wanted]
    stopped: list[tuple[str | None, AclFull | None]] = [(None, None)] * len(wanted)
    combined: dict[tuple[int, ...], Readers] = {}
    for oid in sorted(frozenset().union(*members)):
        who = tuple(i for i, held in enumerate(members) if oid in held and stopped[i][0] is None)
        if not who:
            continue
        readers = combined.get(who)
        if readers is None:
            readers = combined[who] = functools.reduce(Readers.union,
                                                       (wanted[i][1] for i in who))
        try:
            add(oid, readers)
        except AclFull:
            for i in who:
                try:
                    add(oid, wanted[i][1])
                except AclFull as exc:
                    stopped[i] = (oid, exc)
    return stopped

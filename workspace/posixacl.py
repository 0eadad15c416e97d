"""The POSIX ACL codec: the one place that knows the kernel's ``system.posix_acl_*`` format.

Two parts of workspace write ACLs: the CLI, run by a user, grants the daemon's
user access to a workspace (``cli/acl.py``); the daemon, in service mode,
gives each store object read entries for exactly the users and groups that
may read it (``store/acl.py``). Both go through this module, which imports
nothing of ours so that either layer may use it.

The format is kernel ABI (``linux/posix_acl_xattr.h``): a little-endian u32
version 2, then ``(u16 tag, u16 perm, u32 id)`` entries sorted by tag, then
id. Writing it as an extended attribute needs no C binding (pylibacl, whose
libacl also just builds this value) and no ``setfacl`` binary on the server;
a one-entry change is one ``getxattr`` and one ``setxattr`` (measured here:
about 3.5 us and 12 us on ext4). Once a named entry exists the kernel
requires a mask entry, and it reflects the mask in the mode's group bits.
"""

from __future__ import annotations

import errno
import os
import struct

ACCESS = "system.posix_acl_access"
DEFAULT = "system.posix_acl_default"
USER_OBJ, USER, GROUP_OBJ, GROUP, MASK, OTHER = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
NO_ID = 0xFFFFFFFF
R, W, X = 4, 2, 1
RWX = R | W | X
_VERSION = 2
_HEADER = struct.Struct("<I")
_ENTRY = struct.Struct("<HHI")
UNSUPPORTED = frozenset({errno.EOPNOTSUPP, errno.ENOTSUP})
TOO_BIG = frozenset({errno.ENOSPC, errno.E2BIG})
"""What ``setxattr`` says when an ACL does not fit (ext4: one 4 KiB block per inode)."""

Acl = dict[tuple[int, int], int]
"""(tag, id) -> permission bits; ``id`` is NO_ID for the entries that name no one."""


def encode(acl: Acl) -> bytes:
    """The xattr value of ``acl`` (entries sorted by tag, then id, as the kernel requires)."""
    body = b"".join(_ENTRY.pack(tag, perm, ident) for (tag, ident), perm in sorted(acl.items()))
    return _HEADER.pack(_VERSION) + body


def decode(value: bytes) -> Acl:
    if len(value) < _HEADER.size or (len(value) - _HEADER.size) % _ENTRY.size:
        raise ValueError("not a POSIX ACL xattr value")
    (version,) = _HEADER.unpack_from(value)
    if version != _VERSION:
        raise ValueError(f"unknown POSIX ACL xattr version {version}")
    entries = _ENTRY.iter_unpack(value[_HEADER.size:])
    return {(tag, ident): perm for tag, perm, ident in entries}


def from_mode(mode: int) -> Acl:
    """The three-entry ACL that the permission bits alone express."""
    return {(USER_OBJ, NO_ID): (mode >> 6) & 7, (GROUP_OBJ, NO_ID): (mode >> 3) & 7,
            (OTHER, NO_ID): mode & 7}


def with_mask(acl: Acl) -> Acl:
    """Recompute the mask as setfacl does: the union of the group class; none if not needed."""
    out = {key: perm for key, perm in acl.items() if key[0] != MASK}
    if has_named(out):
        union = 0
        for (tag, _), perm in out.items():
            if tag in (USER, GROUP, GROUP_OBJ):
                union |= perm
        out[(MASK, NO_ID)] = union
    return out


def granted(acl: Acl, uid: int, perm: int) -> Acl:
    """``acl`` with ``user:uid`` given at least ``perm``."""
    out = dict(acl)
    out[(USER, uid)] = out.get((USER, uid), 0) | perm
    return with_mask(out)


def revoked(acl: Acl, uid: int) -> Acl:
    return with_mask({key: perm for key, perm in acl.items() if key != (USER, uid)})


def has_named(acl: Acl) -> bool:
    return any(tag in (USER, GROUP) for tag, _ in acl)


def named_count(acl: Acl) -> int:
    """Named user and group entries: what a filesystem limits (503 per inode on ext4 here)."""
    return sum(1 for tag, _ in acl if tag in (USER, GROUP))


def read(target: int | str, name: str = ACCESS) -> Acl | None:
    """The ACL stored on ``target`` (an fd, or a path whose last component is not followed).

    None when there is none, or the filesystem cannot hold one. Other errors raise OSError.
    """
    value = read_encoded(target, name)
    return None if value is None else decode(value)


def read_encoded(target: int | str, name: str = ACCESS) -> bytes | None:
    """The raw xattr value of :func:`read` (to decode each distinct value once)."""
    try:
        return os.getxattr(target, name, **_nofollow(target))
    except OSError as exc:
        if exc.errno == errno.ENODATA or exc.errno in UNSUPPORTED:
            return None
        raise


def write(target: int | str, acl: Acl, name: str = ACCESS) -> None:
    """Store ``acl`` on ``target``; raises OSError (``TOO_BIG`` errnos when it does not fit)."""
    write_encoded(target, encode(acl), name)


def write_encoded(target: int | str, value: bytes, name: str = ACCESS) -> None:
    """Store an already encoded ACL (when one value is written on many files)."""
    os.setxattr(target, name, value, **_nofollow(target))


def _nofollow(target: int | str) -> dict[str, bool]:
    """Paths are never followed at their last component; an fd is what it is."""
    return {} if isinstance(target, int) else {"follow_symlinks": False}

"""Principals and holding states: the small vocabulary of ``workspace/acl/``.

A principal is what a POSIX ACL entry names: a Unix user (tag ``USER``, by
uid) or a Unix group (tag ``GROUP``, by gid). A holding's state is its right
on the dataset as last evaluated, kept as text in the index:

* ``allow``: its entries are set;
* ``allow mask=UID,UID``: a group whose listed members may not read (each gets
  a ``user:UID:---`` entry, which the kernel checks before group entries);
* ``deny``: no entry (kept, so that a re-grant restores read on existing links);
* ``drop``: no entry, and the holding is deleted once its objects are rewritten.
"""

from __future__ import annotations

import grp
import pwd
from dataclasses import dataclass

from workspace.posixacl import GROUP, USER

ALLOW, DENY, DROP = "allow", "deny", "drop"
_MASK = " mask="


@dataclass(frozen=True, slots=True, order=True)
class Principal:
    tag: int  # posixacl.USER or posixacl.GROUP
    ident: int  # uid or gid

    @property
    def is_group(self) -> bool:
        return self.tag == GROUP

    def label(self) -> str:
        """``user:NAME`` or ``group:NAME`` (the uid/gid when the name is unknown)."""
        if self.tag == USER:
            try:
                return f"user:{pwd.getpwuid(self.ident).pw_name}"
            except KeyError:
                return f"user:{self.ident}"
        try:
            return f"group:{grp.getgrgid(self.ident).gr_name}"
        except KeyError:
            return f"group:{self.ident}"


def user(uid: int) -> Principal:
    return Principal(USER, uid)


def group(gid: int) -> Principal:
    return Principal(GROUP, gid)


def allowed(state: str) -> bool:
    return state == ALLOW or state.startswith(ALLOW + _MASK)


def masked(state: str) -> frozenset[int]:
    """The members a group's ``allow mask=...`` state blocks."""
    if not state.startswith(ALLOW + _MASK):
        return frozenset()
    return frozenset(int(uid) for uid in state[len(ALLOW + _MASK):].split(","))


def allow(mask: set[int] | frozenset[int] = frozenset()) -> str:
    return ALLOW + _MASK + ",".join(str(uid) for uid in sorted(mask)) if mask else ALLOW

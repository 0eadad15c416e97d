"""Evaluating rights now: may this user, or this Unix group, read this dataset?

The policy decides (``Authorizer.check``, the same decisions the API makes),
with two facts the policy does not hold: a disabled account reads nothing,
and a user's Unix groups are taken from the group database (``getgrouplist``)
as of this pass. That is what "the next policy refresh" means for group
membership: a user removed from a group loses what only that group gave at
the next evaluation (``acl_refresh_interval``), while a ``group:GID`` entry
stops working for the user's new processes at once, by the kernel's own check.
"""

from __future__ import annotations

import grp
import os
import pwd
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from workspace.acl.states import ALLOW, DENY, Principal, allow
from workspace.db.models import User

READ = "read"


class Checker(Protocol):
    """What evaluation needs of the policy engine (``policy.Authorizer``)."""

    def check(self, subject: str, groups: Sequence[str], resource: str, action: str) -> Any: ...

    @property
    def version(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    disabled: bool


class UnixGroups:
    """Users' Unix groups from the group database, looked up once per uid per pass."""

    def __init__(self) -> None:
        self._gids: dict[int, frozenset[int]] = {}

    def gids_of(self, uid: int) -> frozenset[int]:
        found = self._gids.get(uid)
        if found is None:
            found = self._gids[uid] = _unix_gids(uid)
        return found

    def is_member(self, uid: int, gid: int) -> bool:
        return gid in self.gids_of(uid)


class Evaluator:
    """Rights for one pass: accounts and Unix groups are looked up once, decisions cached."""

    def __init__(self, checker: Checker, accounts: dict[int, Account]) -> None:
        self._checker = checker
        self._accounts = accounts
        self.groups = UnixGroups()

    @classmethod
    def load(cls, checker: Checker, session: Session) -> Evaluator:
        rows = session.execute(select(User.uid, User.name, User.disabled)
                               .where(User.uid.is_not(None)))
        return cls(checker, {uid: Account(name, disabled) for uid, name, disabled in rows
                             if uid is not None})

    def state(self, principal: Principal, dataset: str) -> str:
        if principal.is_group:
            return self._group_state(principal.ident, dataset)
        return ALLOW if self.user_may_read(principal.ident, dataset) else DENY

    def user_may_read(self, uid: int, dataset: str) -> bool:
        account = self._accounts.get(uid)
        if account is None or account.disabled:
            return False
        return bool(self._checker.check(account.name, self.group_subjects(uid), dataset,
                                        READ).allowed)

    def group_may_read(self, gid: int, dataset: str) -> bool:
        name = group_name(gid)
        return name is not None and bool(
            self._checker.check(f"group:{name}", (), dataset, READ).allowed)

    def group_subjects(self, uid: int) -> tuple[str, ...]:
        names = (group_name(gid) for gid in self.groups.gids_of(uid))
        return tuple(sorted(f"group:{name}" for name in names if name))

    def _group_state(self, gid: int, dataset: str) -> str:
        if not self.group_may_read(gid, dataset):
            return DENY
        blocked = {uid for uid in self._accounts
                   if self.groups.is_member(uid, gid) and not self.user_may_read(uid, dataset)}
        return allow(blocked)


def group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def group_id(subject: str) -> int | None:
    """The gid of a ``group:NAME`` policy subject, if that Unix group exists."""
    try:
        return grp.getgrnam(subject.removeprefix("group:")).gr_gid
    except KeyError:
        return None


def _unix_gids(uid: int) -> frozenset[int]:
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return frozenset()
    return frozenset(os.getgrouplist(entry.pw_name, entry.pw_gid))

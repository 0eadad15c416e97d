"""The access-control services the API needs: policy decisions, JWT keys, password hashing.

Kept apart from the domain's ``ServiceContext``: the domain services never
decide who may do what; the API's one authorization dependency does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from workspace.auth.passwords import PasswordHasher
from workspace.auth.tokens import JwtKeys
from workspace.errors import WorkspaceError
from workspace.policy import Authorizer


@dataclass
class Access:
    authorizer: Authorizer | None = None
    keys: JwtKeys | None = None
    hasher: PasswordHasher | None = None
    protected_aliases: tuple[str, ...] = ("production",)
    """Alias names (or ``prefix*``) whose moves need ``promote`` instead of ``maintain``."""

    def is_protected(self, alias: str) -> bool:
        return any(alias.startswith(p[:-1]) if p.endswith("*") else alias == p
                   for p in self.protected_aliases)

    def require_keys(self) -> JwtKeys:
        if self.keys is None:
            raise WorkspaceError("token login is not configured on this daemon")
        return self.keys

    def require_hasher(self) -> PasswordHasher:
        if self.hasher is None:
            raise WorkspaceError("password login is not configured on this daemon")
        return self.hasher

    def is_last_admin(self, session: Session, name: str) -> bool:
        if self.authorizer is None:
            return False
        return self.authorizer.admins(session) == [name]

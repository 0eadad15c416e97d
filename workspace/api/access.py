"""The access-control services the API needs: policy decisions, JWT keys, password hashing.

Kept apart from the domain's ``ServiceContext``: the domain services never
decide who may do what; the API's one authorization dependency does.

The authorizer is required: an ``Access`` (and so an app) without a policy
engine cannot be built, because a check that is skipped when its engine is
missing fails open. Keys and hasher stay optional: without them, token and
password login refuse (``require_keys``, ``require_hasher``), which fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from workspace.audit.aggregate import Tally
from workspace.auth.passwords import PasswordHasher
from workspace.auth.tokens import JwtKeys
from workspace.errors import WorkspaceError
from workspace.policy import Authorizer


@dataclass
class Access:
    authorizer: Authorizer
    keys: JwtKeys | None = None
    hasher: PasswordHasher | None = None
    protected_aliases: tuple[str, ...] = ("production",)
    """Alias names (or ``prefix*``) whose moves need ``promote`` instead of ``maintain``."""
    refusals: Tally = field(default_factory=Tally)
    """Refused unknown local users, aggregated (flushed by the daemon's maintenance)."""

    def __post_init__(self) -> None:
        if not isinstance(self.authorizer, Authorizer):  # type checkers catch the rest
            raise TypeError(f"Access needs an Authorizer, not {type(self.authorizer).__name__}")

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
        return self.authorizer.admins(session) == [name]

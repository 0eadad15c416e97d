"""Forgetting credential rows that protect nothing any more (run periodically by the daemon).

- throttle rows idle for a day, unless locked (``throttle.prune``): otherwise
  every name a guesser ever typed would stay forever;
- revoked JWT ids whose token has expired anyway (``tokens.prune_revoked``);
- API tokens revoked or expired more than ``API_TOKEN_RETENTION`` ago: they
  can never authenticate again, and their creation and revocation stay in
  the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from workspace.auth import throttle, tokens
from workspace.db.queries import credentials

API_TOKEN_RETENTION = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Pruned:
    throttle_rows: int
    revoked_jwts: int
    api_tokens: int

    def __bool__(self) -> bool:
        return bool(self.throttle_rows or self.revoked_jwts or self.api_tokens)


def prune(session: Session, *, now: datetime,
          policy: throttle.ThrottlePolicy = throttle.DEFAULT_POLICY) -> Pruned:
    return Pruned(
        throttle_rows=throttle.prune(session, now=now, policy=policy),
        revoked_jwts=tokens.prune_revoked(session, now=now),
        api_tokens=credentials.prune_api_tokens(session,
                                                ended_before=now - API_TOKEN_RETENTION),
    )

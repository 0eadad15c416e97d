"""API tokens for robots and scripts: ``ws_<id>_<secret>``, shown once, stored hashed.

``id`` (16 hex characters) is public: listings show it and ``revoke`` takes
it. ``secret`` is ``secrets.token_urlsafe(32)``, 256 random bits; only its
SHA-256 is stored, so reading the database does not give a usable token.

Why SHA-256 and not argon2 as for passwords: a slow, memory-hard hash makes
each guess of a *low-entropy* secret expensive. A 256-bit random secret
cannot be guessed at any hash speed, so slowness buys nothing, while argon2
on every API request would cost tens of milliseconds and megabytes per call
and hand anyone a cheap way to load the daemon. The digest is compared with
``hmac.compare_digest`` so the comparison time does not leak how much matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from workspace.auth.tokens import invalid_token
from workspace.db.models_auth import ApiToken
from workspace.db.queries import credentials
from workspace.errors import InvalidInput, NotFound

PREFIX = "ws_"
TOUCH_EVERY = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, so reads do not all become writes."""

_TOKEN = re.compile(r"ws_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})")
_NAME = re.compile(r"[\w.@:+-][\w .@:+-]{0,99}")
_DUMMY_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """The only moment the full token exists outside its holder's hands."""

    token: str
    id: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown about a token: everything but its secret."""

    id: str
    user_id: int
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class TokenUse:
    """A verified token: whose it is, and whether ``touch`` is due."""

    id: str
    user_id: int
    touch_due: bool


def looks_like(token: str) -> bool:
    """True for strings in API-token form (JWTs never start with ``ws_``)."""
    return token.startswith(PREFIX)


def create(
    session: Session, *, user_id: int, name: str, expires_in: timedelta | None, now: datetime
) -> CreatedToken:
    """A new token for ``user_id``; the returned ``token`` is never stored nor shown again."""
    _check_name(name)
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidInput("a token's lifetime must be positive", hint="for example --expires 90d")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    expires_at = None if expires_in is None else now + expires_in
    row = ApiToken(id=token_id, user_id=user_id, name=name, secret_hash=_digest(secret),
                   created_at=now, expires_at=expires_at)
    credentials.add_api_token(session, row)
    return CreatedToken(f"{PREFIX}{token_id}_{secret}", token_id, expires_at)


def verify(session: Session, token: str, *, now: datetime) -> TokenUse:
    """The live token ``token`` names, or ``AuthenticationRequired`` (one message for all)."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise invalid_token()
    row = credentials.api_token(session, match["id"])
    stored = row.secret_hash if row is not None else _DUMMY_HASH
    if not hmac.compare_digest(stored, _digest(match["secret"])) or row is None:
        raise invalid_token()
    if _info(row).state(now) != "active":
        raise invalid_token()
    due = row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY
    return TokenUse(row.id, row.user_id, due)


def touch(session: Session, token_id: str, *, now: datetime) -> None:
    """Record a use (call in a write transaction when ``TokenUse.touch_due``)."""
    credentials.touch_api_token(session, token_id, now=now)


def info(session: Session, token_id: str) -> TokenInfo:
    row = credentials.api_token(session, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}", hint="`ws token list` shows token ids")
    return _info(row)


def list_for(session: Session, user_id: int) -> list[TokenInfo]:
    """Every token of ``user_id``, oldest first, revoked and expired ones included."""
    return [_info(row) for row in credentials.api_tokens_of(session, user_id)]


def revoke(session: Session, token_id: str, *, now: datetime) -> TokenInfo:
    """Refuse the token from now on. Revoking twice keeps the first time."""
    row = credentials.api_token(session, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}", hint="`ws token list` shows token ids")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return _info(row)


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name) or name != name.strip():
        raise InvalidInput(
            f"token name {name!r} is not allowed",
            hint="use 1-100 letters, digits, spaces or . _ - @ : + (not at either end for spaces)",
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.user_id, row.name, row.created_at, row.expires_at,
                     row.revoked_at, row.last_used_at)

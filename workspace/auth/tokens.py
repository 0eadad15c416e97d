"""Short-lived login tokens: JWT (HS256) signed with the daemon's secret.

A token names its user by id (``sub``), says who issued it for whom
(``iss``, ``aud``), when it was made and stops being valid (``iat``, ``nbf``,
``exp``), and carries a random ``jti`` so one token can be revoked before it
expires (a row in ``revoked_jwts`` until then).

Decoding trusts nothing in the token's header: the algorithm list is fixed
to HS256 (so ``alg: none`` and RS/HS confusion fail), every claim above is
required (PyJWT checks ``exp`` only when present), and every failure becomes
the same ``AuthenticationRequired`` so a caller learns nothing about why.

PyJWT is used only in this module.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy.orm import Session

from workspace.db.queries import credentials
from workspace.errors import AuthenticationRequired, InvalidInput

ALGORITHMS = ["HS256"]
REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "jti"]
DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(hours=24)
INVALID_TOKEN = "invalid or expired token"
TOKEN_HINT = "log in again (`ws login`)"


@dataclass(frozen=True, slots=True)
class JwtKeys:
    """What signs and checks tokens; built once at start from the secret file."""

    secret: bytes
    issuer: str = "workspace"
    audience: str = "workspace-api"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The checked contents of a valid token."""

    user_id: int
    jti: str
    expires_at: datetime


def invalid_token() -> AuthenticationRequired:
    """The one error for every bad bearer token, whatever was wrong with it."""
    return AuthenticationRequired(INVALID_TOKEN, hint=TOKEN_HINT)


def issue(
    keys: JwtKeys, *, user_id: int, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
) -> IssuedToken:
    """A signed token for ``user_id``, valid from ``now`` for ``ttl`` (at most ``MAX_TTL``)."""
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidInput(f"token lifetime {ttl} is out of range", hint=f"use at most {MAX_TTL}")
    issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
    expires_at = issued_at + ttl
    jti = secrets.token_urlsafe(16)
    claims = {
        "sub": str(user_id), "iss": keys.issuer, "aud": keys.audience, "jti": jti,
        "iat": issued_at, "nbf": issued_at, "exp": expires_at,
    }
    token = jwt.encode(claims, keys.secret, algorithm=ALGORITHMS[0])
    return IssuedToken(token, jti, expires_at)


def decode(keys: JwtKeys, token: str) -> TokenClaims:
    """The claims of a well-signed, current token (revocation is checked by ``verify``)."""
    try:
        claims = jwt.decode(
            token,
            keys.secret,
            algorithms=ALGORITHMS,
            audience=keys.audience,
            issuer=keys.issuer,
            options={
                "require": REQUIRED_CLAIMS,
                "strict_aud": True,
                "enforce_minimum_key_length": True,
            },
        )
        return _claims(claims)
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise invalid_token() from exc


def _claims(claims: dict[str, Any]) -> TokenClaims:
    subject, jti = claims["sub"], claims["jti"]
    if not (subject.isascii() and subject.isdigit() and len(subject) < 16 and jti):
        raise ValueError("malformed sub or jti")
    return TokenClaims(int(subject), jti, datetime.fromtimestamp(claims["exp"], UTC))


def verify(session: Session, keys: JwtKeys, token: str) -> TokenClaims:
    """``decode``, then refuse a token whose ``jti`` was revoked."""
    claims = decode(keys, token)
    if credentials.jwt_is_revoked(session, claims.jti):
        raise invalid_token()
    return claims


def revoke(session: Session, keys: JwtKeys, token: str) -> TokenClaims:
    """Refuse ``token`` from now on (logout); it must be valid to be revoked."""
    claims = verify(session, keys, token)
    credentials.add_revoked_jwt(session, claims.jti, claims.expires_at)
    return claims


def revoke_jti(session: Session, jti: str, *, expires_at: datetime) -> None:
    """Refuse the token with this id until ``expires_at`` (when it would die anyway)."""
    credentials.add_revoked_jwt(session, jti, expires_at)


def prune_revoked(session: Session, *, now: datetime) -> int:
    """Forget revocations of tokens that have expired anyway; returns how many."""
    return credentials.prune_revoked_jwts(session, now=now)

"""Credential tables (passwords, API tokens, revoked JWTs, login throttling).

No table here ever holds a secret in a form that can be replayed: passwords
are argon2id hashes, API tokens are SHA-256 digests of their random part, and
JWTs are only remembered by id (``jti``) once revoked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workspace.db.base import Base, UTCDateTime, utcnow


class Password(Base):
    """A user's argon2id hash (PHC string: it carries its own parameters and salt)."""

    __tablename__ = "passwords"
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    hash: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A long-lived bearer credential ``ws_<id>_<secret>``; only sha256(secret) is kept.

    ``id`` is public (shown in listings, used to revoke); the secret is shown
    once at creation and cannot be recovered from this row.
    """

    __tablename__ = "api_tokens"
    __table_args__ = (Index(None, "user_id"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedJwt(Base):
    """A JWT refused before its expiry; the row is useless (and pruned) once it expires."""

    __tablename__ = "revoked_jwts"
    __table_args__ = (Index(None, "expires_at"),)
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed password logins per *given* name and client address, and per name overall.

    Keyed by the name typed rather than by user id, so unknown names are
    throttled exactly like real ones and the responses reveal nothing about
    which accounts exist. ``client`` is the address the attempts came from
    (``auth/throttle.client_key``); the row with client ``*`` counts the
    name's failures from every address together. Kept in the database so
    daemons sharing it agree.
    """

    __tablename__ = "login_throttle"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)

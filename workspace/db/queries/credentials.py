"""Queries on credentials: password hashes, API tokens, revoked JWT ids, login failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workspace.db.models import User
from workspace.db.models_auth import ApiToken, LoginFailure, Password, RevokedJwt


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


# -- passwords -------------------------------------------------------------------------------


def password_hash(session: Session, user_id: int) -> str | None:
    return session.scalar(select(Password.hash).where(Password.user_id == user_id))


def set_password_hash(session: Session, user_id: int, hashed: str, *, now: datetime) -> None:
    row = session.get(Password, user_id)
    if row is None:
        session.add(Password(user_id=user_id, hash=hashed, updated_at=now))
    else:
        row.hash, row.updated_at = hashed, now
    session.flush()


def delete_password(session: Session, user_id: int) -> bool:
    return _deleted(session.execute(delete(Password).where(Password.user_id == user_id)))


# -- API tokens ------------------------------------------------------------------------------


def add_api_token(session: Session, token: ApiToken) -> None:
    session.add(token)
    session.flush()


def api_token(session: Session, token_id: str) -> ApiToken | None:
    return session.get(ApiToken, token_id)


def api_tokens_of(session: Session, user_id: int) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    return session.scalars(query).all()


def touch_api_token(session: Session, token_id: str, *, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


# -- revoked JWTs ----------------------------------------------------------------------------


def add_revoked_jwt(session: Session, jti: str, expires_at: datetime) -> None:
    """Idempotent: revoking the same token twice is not an error."""
    _insert_ignoring_duplicate(session, RevokedJwt, {"jti": jti, "expires_at": expires_at})


def jwt_is_revoked(session: Session, jti: str) -> bool:
    return session.scalar(select(RevokedJwt.jti).where(RevokedJwt.jti == jti)) is not None


def prune_revoked_jwts(session: Session, *, now: datetime) -> int:
    return _count(session.execute(delete(RevokedJwt).where(RevokedJwt.expires_at < now)))


# -- login failures --------------------------------------------------------------------------


def login_failure_for_update(session: Session, name: str, *, now: datetime) -> LoginFailure:
    """The row for ``name`` (created at zero if absent), locked until the transaction ends.

    The insert ignores a concurrent twin, and ``FOR UPDATE`` serializes two
    daemons checking the same name on PostgreSQL (SQLite writers are already
    serialized by ``BEGIN IMMEDIATE``).
    """
    values = {"name": name, "failures": 0, "last_failure_at": now, "locked": False}
    _insert_ignoring_duplicate(session, LoginFailure, values)
    query = (
        select(LoginFailure)
        .where(LoginFailure.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).one()


def login_failure(session: Session, name: str) -> LoginFailure | None:
    return session.get(LoginFailure, name)


def login_failures(session: Session) -> Sequence[LoginFailure]:
    return session.scalars(select(LoginFailure).order_by(LoginFailure.name)).all()


def clear_login_failures(session: Session, name: str) -> bool:
    return _deleted(session.execute(delete(LoginFailure).where(LoginFailure.name == name)))


def prune_login_failures(session: Session, *, before: datetime) -> int:
    """Forget unlocked names whose last failure is older than ``before``."""
    query = delete(LoginFailure).where(
        LoginFailure.locked.is_(False), LoginFailure.last_failure_at < before
    )
    return _count(session.execute(query))


# -- helpers ---------------------------------------------------------------------------------


def _insert_ignoring_duplicate(session: Session, table: type, values: dict[str, object]) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _deleted(result: object) -> bool:
    return _count(result) > 0

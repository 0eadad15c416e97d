"""Queries on credentials: password hashes, API tokens, revoked JWT ids, login throttling."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workspace.db.models import User
from workspace.db.models_auth import ApiToken, LoginThrottle, Password, RevokedJwt


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


def prune_api_tokens(session: Session, *, ended_before: datetime) -> int:
    """Forget API tokens revoked, or expired, before ``ended_before``."""
    ended = or_(ApiToken.revoked_at < ended_before, and_(ApiToken.revoked_at.is_(None),
                                                         ApiToken.expires_at < ended_before))
    return _count(session.execute(delete(ApiToken).where(ended)))


# -- login throttle --------------------------------------------------------------------------


def throttle_rows_for_update(session: Session, name: str, clients: Sequence[str], *,
                             now: datetime) -> list[LoginThrottle]:
    """The rows of ``name`` for each of ``clients`` (created at zero if absent), in the
    order given, locked until the transaction ends.

    The inserts ignore a concurrent twin, and ``FOR UPDATE`` (rows taken in
    ``client`` order, the same in every transaction: no deadlock) serializes
    two daemons checking the same name on PostgreSQL; SQLite writers are
    already serialized by ``BEGIN IMMEDIATE``.
    """
    for client in sorted(clients):
        values = {"name": name, "client": client, "failures": 0, "last_failure_at": now,
                  "locked": False}
        _insert_ignoring_duplicate(session, LoginThrottle, values)
    query = (
        select(LoginThrottle)
        .where(LoginThrottle.name == name, LoginThrottle.client.in_(clients))
        .order_by(LoginThrottle.client)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = {row.client: row for row in session.scalars(query)}
    return [rows[client] for client in clients]


def throttle_row(session: Session, name: str, client: str) -> LoginThrottle | None:
    return session.get(LoginThrottle, (name, client))


def throttle_rows(session: Session, name: str) -> Sequence[LoginThrottle]:
    query = select(LoginThrottle).where(LoginThrottle.name == name)
    return session.scalars(query.order_by(LoginThrottle.client)).all()


def clear_throttle(session: Session, name: str, clients: Sequence[str] | None = None) -> int:
    """Forget ``name``'s rows for ``clients`` (every row of the name if None)."""
    query = delete(LoginThrottle).where(LoginThrottle.name == name)
    if clients is not None:
        query = query.where(LoginThrottle.client.in_(clients))
    return _count(session.execute(query))


def prune_throttle(session: Session, *, before: datetime) -> int:
    """Forget unlocked rows whose last failure is older than ``before``."""
    query = delete(LoginThrottle).where(
        LoginThrottle.locked.is_(False), LoginThrottle.last_failure_at < before
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

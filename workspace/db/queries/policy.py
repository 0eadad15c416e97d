"""Queries on the policy rules and the policy state row.

A rule is handled as a tuple ``(ptype, v0, v1, v2, v3)`` (unused values are
``""``), the same shape the policy package indexes, so nothing is lost between
the table and Casbin.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, insert, select, update
from sqlalchemy.orm import Session

from workspace.db.base import utcnow
from workspace.db.models_policy import PolicyRule, PolicyState

RuleRow = tuple[str, str, str, str, str]
STATE_ID = 1


def version(session: Session) -> int:
    """The change counter; 0 if the state row is missing (it is created by migration 0004)."""
    return session.scalar(select(PolicyState.version).where(PolicyState.id == STATE_ID)) or 0


def state(session: Session) -> tuple[int, str | None, datetime | None]:
    """``(version, model text, when files were last applied)``."""
    row = session.execute(
        select(PolicyState.version, PolicyState.model, PolicyState.files_applied_at).where(
            PolicyState.id == STATE_ID
        )
    ).one_or_none()
    return (0, None, None) if row is None else (row[0], row[1], row[2])


def lock_state(session: Session) -> None:
    """Serialize policy writers on PostgreSQL (SQLite write transactions already are)."""
    session.execute(select(PolicyState.id).where(PolicyState.id == STATE_ID).with_for_update())


def bump_version(session: Session) -> None:
    """Count one change, in the transaction that makes it."""
    session.execute(
        update(PolicyState)
        .where(PolicyState.id == STATE_ID)
        .values(version=PolicyState.version + 1)
    )


def set_model(session: Session, text: str) -> None:
    session.execute(update(PolicyState).where(PolicyState.id == STATE_ID).values(model=text))


def mark_files_applied(session: Session, at: datetime | None = None) -> None:
    stmt = update(PolicyState).where(PolicyState.id == STATE_ID)
    session.execute(stmt.values(files_applied_at=at or utcnow()))


def all_rules(session: Session) -> list[tuple[RuleRow, str]]:
    """Every rule with its source, in insertion order."""
    cols = (PolicyRule.ptype, PolicyRule.v0, PolicyRule.v1, PolicyRule.v2, PolicyRule.v3)
    stmt = select(*cols, PolicyRule.source).order_by(PolicyRule.id)
    return [((r[0], r[1], r[2], r[3], r[4]), r[5]) for r in session.execute(stmt)]


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PolicyRule)) or 0


def source_of(session: Session, rule: RuleRow) -> str | None:
    """``file``, ``api``, or None when the rule does not exist."""
    return session.scalar(select(PolicyRule.source).where(*_exactly(rule)))


def insert_rules(session: Session, rules: Iterable[RuleRow], *, source: str) -> None:
    rows = [_row(rule, source) for rule in rules]
    if rows:
        session.execute(insert(PolicyRule), rows)


def delete_rule(session: Session, rule: RuleRow) -> int:
    """Delete exactly this rule (every value compared); returns the rows deleted (0 or 1)."""
    result = session.execute(delete(PolicyRule).where(*_exactly(rule)))
    return int(getattr(result, "rowcount", 0) or 0)


def file_rules(session: Session) -> set[RuleRow]:
    cols = (PolicyRule.ptype, PolicyRule.v0, PolicyRule.v1, PolicyRule.v2, PolicyRule.v3)
    stmt = select(*cols).where(PolicyRule.source == "file")
    return {(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(stmt)}


def members_with(session: Session, role: str, pattern: str) -> Sequence[str]:
    """Subjects that hold ``role`` on exactly ``pattern`` through a direct grant."""
    stmt = (
        select(PolicyRule.v0)
        .where(PolicyRule.ptype == "g", PolicyRule.v1 == role, PolicyRule.v2 == pattern)
        .order_by(PolicyRule.v0)
    )
    return list(session.scalars(stmt))


def _exactly(rule: RuleRow) -> tuple[ColumnElement[bool], ...]:
    ptype, v0, v1, v2, v3 = rule
    return (
        PolicyRule.ptype == ptype,
        PolicyRule.v0 == v0,
        PolicyRule.v1 == v1,
        PolicyRule.v2 == v2,
        PolicyRule.v3 == v3,
    )


def _row(rule: RuleRow, source: str) -> dict[str, object]:
    ptype, v0, v1, v2, v3 = rule
    return {
        "ptype": ptype,
        "v0": v0,
        "v1": v1,
        "v2": v2,
        "v3": v3,
        "source": source,
        "created_at": utcnow(),
    }

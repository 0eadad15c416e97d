"""Appending an event: in the caller's transaction, extending the hash chain.

``hash = sha256(prev_hash || canonical JSON of the event)``, with the first
event chained to 64 zeros. The event is written in the same transaction as
the change it records, so both exist or neither does (store rule 8). The
chain must not fork: SQLite write transactions begin IMMEDIATE (one writer at
a time), and on PostgreSQL an advisory transaction lock serializes appenders
across daemons sharing the database.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit.tags import Action
from workspace.db.base import utcnow
from workspace.db.models import AuditEvent
from workspace.db.queries import audit as queries

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 0x77730001  # any constant shared by every daemon on one database


def record(
    session: Session,
    *,
    actor: str,
    action: Action,
    dataset: str | None = None,
    version: int | None = None,
    workspace: str | None = None,
    path: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    _lock_chain(session)
    prev = queries.head_hash(session) or GENESIS
    event = AuditEvent(
        at=utcnow(),
        actor=actor,
        action=str(action),
        dataset=dataset,
        version=version,
        workspace=workspace,
        path=path,
        detail=json.dumps(detail or {}, sort_keys=True, separators=(",", ":")),
        prev_hash=prev,
    )
    event.hash = event_hash(event)
    session.add(event)
    session.flush()
    return event


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(event.prev_hash.encode() + canonical_bytes(event)).hexdigest()


def canonical_bytes(event: AuditEvent) -> bytes:
    """The bytes the hash covers: every field but the id and the hashes themselves."""
    fields = {
        "at": _iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "dataset": event.dataset,
        "version": event.version,
        "workspace": event.workspace,
        "path": event.path,
        "detail": event.detail,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds")


def _lock_chain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        queries.lock_chain_postgres(session, _CHAIN_LOCK_KEY)

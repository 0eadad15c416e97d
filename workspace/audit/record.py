"""Appending an event: in the caller's transaction, extending the hash chain.

``hash = sha256(prev_hash || canonical JSON of the event)``, with the first
event chained to 64 zeros. The event is written in the same transaction as
the change it records, so both exist or neither does (store rule 8). The
chain must not fork: SQLite write transactions begin IMMEDIATE (one writer at
a time), and on PostgreSQL every write transaction first takes one advisory
lock (``db/engine.py``), which serializes appenders across daemons sharing
the database.

Each appended event's ``(id, hash)`` is also left in ``session.info`` under
``APPENDED`` (and ``URGENT`` is set when the event changes who may do what):
a ``Checkpointer`` reads them once the transaction has committed (never
before, so a checkpoint never names an event that was rolled back).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from hashlib import sha256
from json.encoder import encode_basestring_ascii as _str
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit.tags import SECURITY_RELEVANT, Action
from workspace.db.base import utcnow
from workspace.db.engine import take_writer_lock
from workspace.db.models import AuditEvent
from workspace.db.queries import audit as queries

GENESIS = "0" * 64
APPENDED = "workspace.audit.appended"
URGENT = "workspace.audit.urgent"

Fields = tuple[str, str, str, str | None, str, str | None, int | None, str | None]
"""What the hash covers, in key order: action, actor, at (ISO text), dataset, detail,
path, version, workspace."""


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
    """Append one event to the chain, in ``session``'s transaction (it commits with it)."""
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
    session.info.setdefault(APPENDED, []).append((event.id, event.hash))
    if action in SECURITY_RELEVANT:
        session.info[URGENT] = True
    return event


def event_hash(event: AuditEvent) -> str:
    return link_hash(event.prev_hash, fields_of(event))


def link_hash(prev_hash: str, fields: Fields) -> str:
    """``sha256(prev_hash || canonical bytes)`` as hex: the link from one event to the next."""
    return sha256((prev_hash + canonical_text(fields)).encode()).hexdigest()


def fields_of(event: AuditEvent) -> Fields:
    return (event.action, event.actor, iso(event.at), event.dataset, event.detail, event.path,
            event.version, event.workspace)


def canonical_text(fields: Fields) -> str:
    """Compact JSON of the fields with sorted keys, exactly as ``json.dumps(...,
    sort_keys=True, separators=(",", ":"))`` writes it, but built inline: ``verify``
    rehashes a million events and the generic encoder (or a helper call per field)
    costs three times as much. A field of the wrong type (only a hand-edited row
    has one) raises TypeError."""
    action, actor, at, dataset, detail, path, version, workspace = fields
    return (
        f'{{"action":{_str(action)},"actor":{_str(actor)},"at":{_str(at)},'
        f'"dataset":{"null" if dataset is None else _str(dataset)},'
        f'"detail":{_str(detail)},"path":{"null" if path is None else _str(path)},'
        f'"version":{"null" if version is None else int.__repr__(version)},'
        f'"workspace":{"null" if workspace is None else _str(workspace)}}}'
    )


def iso(at: datetime) -> str:
    """How a time enters the hash: ISO 8601 in UTC with microseconds and ``+00:00``."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _lock_chain(session: Session) -> None:
    """Sessions from ``Database.write`` hold it already; others (migrations) take it here."""
    if session.get_bind().dialect.name == "postgresql":
        take_writer_lock(session)

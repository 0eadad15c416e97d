"""First contact of an unknown (or disabled) local user: refused and recorded, or registered
and granted ``auto_register_role`` with a policy event, decided in one service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.databases import database
from workspace.audit.aggregate import Tally
from workspace.db import Database, migrate
from workspace.db.models import AuditEvent
from workspace.db.queries import users
from workspace.errors import PermissionDenied
from workspace.policy import Authorizer
from workspace.policy.admission import admit_local

NO_SUCH_UID = 2_000_000_000  # no passwd entry: named uid-2000000000


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Database,
                                                                            Authorizer]]:
    with database(request.param, tmp_path) as url:
        migrate(url)
        db = Database(url)
        authorizer = Authorizer(db, None)
        with db.write() as session:
            authorizer.load_defaults_if_empty(session)
        yield db, authorizer
        db.dispose()


def _events(db: Database) -> list[tuple[str, str, dict[str, object]]]:
    with db.read() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        return [(row.actor, row.action, json.loads(row.detail)) for row in rows]


def test_an_unknown_user_is_refused_and_recorded(fresh: tuple[Database, Authorizer]) -> None:
    db, authorizer = fresh
    tally = Tally()
    for _ in range(3):
        with pytest.raises(PermissionDenied, match="is not a workspace user"):
            admit_local(db, authorizer, NO_SUCH_UID, auto_register_role=None, refusals=tally)
    tally.flush(db, everything=True)
    assert [(a, act, d["count"], d["reason"]) for a, act, d in _events(db)] == [
        ("uid-2000000000", "access:user:refuse", 1, "unknown_user"),
        ("uid-2000000000", "access:user:refuse", 2, "unknown_user")]


def test_a_disabled_user_is_refused_with_its_reason(fresh: tuple[Database, Authorizer]) -> None:
    db, authorizer = fresh
    with db.write() as session:
        users.create(session, name="uid-2000000000", uid=NO_SUCH_UID).disabled = True
    with pytest.raises(PermissionDenied, match="disabled"):
        admit_local(db, authorizer, NO_SUCH_UID, auto_register_role=None, refusals=Tally())
    assert [(act, d["reason"]) for _, act, d in _events(db)] == [
        ("access:user:refuse", "disabled")]


def test_auto_registration_grants_the_role_with_a_policy_event(
        fresh: tuple[Database, Authorizer]) -> None:
    db, authorizer = fresh
    caller = admit_local(db, authorizer, NO_SUCH_UID, auto_register_role="reader",
                         refusals=Tally())
    assert caller.name == "uid-2000000000"
    assert authorizer.check(caller.name, (), "vision/cats", "read").allowed
    assert [(a, act) for a, act, _ in _events(db)] == [
        (caller.name, "account:user:register"), (caller.name, "policy:role:grant")]
    assert _events(db)[1][2] == {"subject": caller.name, "role": "reader", "pattern": "*",
                                 "new": True, "reason": "auto_register_role"}

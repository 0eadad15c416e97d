"""Authorization cannot fail open: no app without a policy engine, no route that skips it.

The app is the real one, on a real migrated SQLite database with the
shipped default policy and one registered user who holds no role. Only the
socket's peer credentials are supplied by the test (the process edge: the
kernel would fill them in at ``connect()``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.test_route_coverage import requirements
from tests.support.apps import api_routes
from workspace.api import create_app
from workspace.api.access import Access
from workspace.api.peercred import Peer
from workspace.config import Settings
from workspace.db import Database, migrate
from workspace.db.queries import users
from workspace.policy import Authorizer
from workspace.store import ObjectStore
from workspace.workspaces.context import ServiceContext

NOBODY_UID = 4_000_123  # a uid no test user has; the peer is made up, the account is real
STRANGER = "someone-else"
# Every field a resolver reads, naming things the caller has no role on and is not.
FIELDS: dict[str, Any] = {
    "dataset": "team/secret", "ref": "team/secret@1", "a": "team/secret@1",
    "b": "team/secret@2", "path": "/nonexistent/workspace/data", "pattern": "team/*",
    "role": "reader", "subject": STRANGER, "user": STRANGER, "name": STRANGER,
    "id": "ws_0000_nope", "message": "m", "tag": "v1",
}
# A route whose check is on the dataset tracked at a workspace path: with no such
# workspace there is nothing to check, and the route itself refuses the path.
NEEDS_A_WORKSPACE = {"POST /v1/commit"}


def test_access_cannot_be_built_without_an_authorizer() -> None:
    with pytest.raises(TypeError):
        Access()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="needs an Authorizer"):
        Access(authorizer=None)  # type: ignore[arg-type]


def test_an_app_cannot_be_built_without_access(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    with pytest.raises(TypeError):
        create_app(SimpleNamespace(), settings)  # type: ignore[arg-type, call-arg]
    with pytest.raises(TypeError, match="needs an Access"):
        create_app(SimpleNamespace(), settings, None)  # type: ignore[arg-type]


@pytest.fixture
def no_role_app(tmp_path: Path) -> Iterator[FastAPI]:
    url = f"sqlite:///{tmp_path / 'workspace.db'}"
    migrate(url)
    db = Database(url)
    authorizer = Authorizer(db)
    with db.write() as session:
        authorizer.load_defaults_if_empty(session)
        users.create(session, name="norole", uid=NOBODY_UID)
    store = ObjectStore.open(tmp_path / "store")
    ctx = ServiceContext(db=db, store=store, mode="single", link_mode="hardlink")
    yield create_app(ctx, Settings(home=tmp_path), Access(authorizer=authorizer))
    store.close()
    db.dispose()


def _as_peer(app: FastAPI, peer: Peer) -> Any:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        scope["state"] = {"peer": peer}
        await app(scope, receive, send)

    return asgi


def _policy_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted((method, path) for path, route in api_routes(app) for method in route.methods
                  if any(r.kind == "policy" for r in requirements(route.dependant)))


async def _answers(app: FastAPI) -> dict[str, tuple[int, Any]]:
    peer = Peer(pid=os.getpid(), uid=NOBODY_UID, gid=NOBODY_UID)
    transport = httpx.ASGITransport(app=_as_peer(app, peer))
    answers = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://ws") as client:
        for method, path in _policy_routes(app):
            body = FIELDS if method in ("POST", "PUT", "PATCH", "DELETE") else None
            response = await client.request(method, path, params=FIELDS, json=body)
            answers[f"{method} {path}"] = (response.status_code, response.json())
    return answers


def test_no_policy_route_lets_a_caller_without_a_role_through(no_role_app: FastAPI) -> None:
    answers = asyncio.run(_answers(no_role_app))
    assert len(answers) >= 20, answers  # the sweep really saw the API
    for route, (status, payload) in answers.items():
        if route in NEEDS_A_WORKSPACE:
            assert status >= 400, (route, status, payload)
            continue
        assert (status, payload["error"]["code"]) == (403, "permission_denied"), (
            f"{route} answered {status} to a user with no role: {payload}")

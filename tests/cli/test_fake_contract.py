"""The fake daemon of the CLI tests answers like the real one: its shapes come from here.

A real daemon (single-user, on SQLite, with its TCP door for login) answers
every route the fake serves, through a small HTTP client run as the daemon's
user. The shapes of those answers must equal ``real_shapes.json``, which the
fake checks each canned answer against (see real_shapes.py). When the daemon
changes an answer on purpose, rerun this test with ``WS_UPDATE_SHAPES=1`` to
rewrite the file, and review the diff: the CLI tests whose canned answers no
longer fit will then say where.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.cli import real_shapes
from tests.cli.cli_harness import FakeDaemon, events_for, write_result
from tests.support.daemon import Daemon, give
from tests.support.runtime import Identity, Runtime
from tests.support.service import run_python

PASSWORD = "correct horse battery"
_CLIENT = r"""
import json, sys
import httpx
socket_path, url, requests = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
local = httpx.Client(transport=httpx.HTTPTransport(uds=socket_path), base_url="http://ws",
                     timeout=60)
remote = httpx.Client(base_url=url, timeout=60)
answers = []
for r in requests:
    client = remote if r.get("tcp") else local
    headers = {"Authorization": "Bearer " + r["bearer"]} if r.get("bearer") else {}
    response = client.request(r["method"], r["path"], params=r.get("params"),
                              json=r.get("json"), headers=headers)
    if response.headers.get("content-type", "").startswith("application/x-ndjson"):
        body = [json.loads(line) for line in response.text.splitlines() if line.strip()]
    else:
        body = response.json()
    answers.append({"status": response.status_code, "body": body})
print(json.dumps(answers))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Recorder:
    """Sends requests as the daemon's user and keeps every answer's shape, per route."""

    def __init__(self, runtime: Runtime, daemon: Daemon, who: Identity, url: str) -> None:
        self.runtime, self.daemon, self.who, self.url = runtime, daemon, who, url
        self.samples: dict[str, list[Any]] = {}

    def __call__(self, method: str, path: str, **request: Any) -> Any:
        return self.many([{"method": method, "path": path, **request}])[0]

    def many(self, requests: list[dict[str, Any]]) -> list[Any]:
        out = run_python(self.runtime, self.who, _CLIENT, str(self.daemon.socket), self.url,
                         json.dumps(requests)).stdout
        bodies = []
        for request, answer in zip(requests, json.loads(out), strict=True):
            assert answer["status"] < 300 or request.get("error"), (request, answer)
            self._keep(request, answer["body"])
            bodies.append(answer["body"])
        return bodies

    def _keep(self, request: dict[str, Any], body: Any) -> None:
        if request.get("error"):
            self.samples.setdefault("error", []).append(body)
            return
        route = f"{request['method']} {request['path']}"
        if isinstance(body, list):  # a stream of events, ending in the result
            for event in body[:-1]:
                self.samples.setdefault(f"event:{event['event']}", []).append(event)
            body = body[-1]["result"]
        self.samples.setdefault(route, []).append(body)

    def shapes(self) -> dict[str, Any]:
        return {route: real_shapes.merge([real_shapes.shape_of(body) for body in bodies])
                for route, bodies in sorted(self.samples.items())}


def _data(project: Path, owner: Identity) -> None:
    (project / "data" / "images").mkdir(parents=True)
    (project / "data" / "labels.csv").write_text("name,label\ncat,1\n")
    (project / "data" / "images" / "a.bin").write_bytes(b"a" * 300)
    give(project, owner)


def _change(project: Path, owner: Identity) -> None:
    labels = project / "data" / "labels.csv"
    labels.unlink()  # a new inode, as `ws unlock` and an edit would leave
    labels.write_text("name,label\ncat,1\ndog,0\n")
    (project / "data" / "images" / "b.bin").write_bytes(b"b" * 10)
    give(project, owner)


def _workspace_routes(record: Recorder, project: Path) -> None:
    root, data = str(project), str(project / "data")
    record("GET", "/v1/health")
    record("POST", "/v1/workspaces", json={"path": root})
    record("POST", "/v1/add", json={"path": data, "dataset": "vision/cats", "message": "v1"})
    _change(project, record.who)
    record("GET", "/v1/status", params={"path": root})
    record("POST", "/v1/commit", json={"path": data, "message": "v2", "base_version": 1})
    record.many([
        {"method": "GET", "path": "/v1/workspaces/locate", "params": {"path": root}},
        {"method": "GET", "path": "/v1/workspaces/locate", "params": {"path": data}},
        {"method": "POST", "path": "/v1/checkout", "json": {"path": data, "ref": "vision/cats@1"}},
        {"method": "POST", "path": "/v1/get", "json": {"ref": "vision/cats@2",
                                                     "path": str(project / "other")}},
        {"method": "GET", "path": "/v1/status", "params": {"path": root}},
    ])


def _history_routes(record: Recorder, project: Path) -> None:
    cats = {"ref": "vision/cats"}
    record.many([
        {"method": "GET", "path": "/v1/datasets"},
        {"method": "GET", "path": "/v1/ls", "params": cats},
        {"method": "GET", "path": "/v1/log", "params": cats},
        {"method": "GET", "path": "/v1/log", "params": {"path": str(project / "data")}},
        {"method": "GET", "path": "/v1/log", "params": {"path": str(project / "other/labels.csv")}},
        {"method": "GET", "path": "/v1/log", "params": {"path": str(project / "other/images")}},
        {"method": "GET", "path": "/v1/blame", "params": cats},
        {"method": "GET", "path": "/v1/blame/lines", "params": {**cats, "file": "labels.csv"}},
        {"method": "GET", "path": "/v1/diff", "params": {"a": "vision/cats@1",
                                                         "b": "vision/cats@2"}},
        {"method": "POST", "path": "/v1/tags", "json": {"ref": "vision/cats@1", "tag": "v1.0"}},
        {"method": "GET", "path": "/v1/audit"},
        {"method": "GET", "path": "/v1/audit/verify"},
        {"method": "GET", "path": "/v1/ls", "params": {"ref": "no/such"}, "error": True},
    ])


def _access_routes(record: Recorder) -> None:
    me = record.who.name
    record.many([
        {"method": "POST", "path": "/v1/users", "json": {"name": "ci-bot", "robot": True}},
        {"method": "GET", "path": "/v1/users"},
        {"method": "POST", "path": "/v1/users/disable", "json": {"name": "ci-bot"}},
        {"method": "POST", "path": "/v1/users/enable", "json": {"name": "ci-bot"}},
        {"method": "POST", "path": "/v1/users/password", "json": {"name": me,
                                                                 "password": PASSWORD}},
        {"method": "POST", "path": "/v1/roles/grant", "json": {"subject": "ci-bot",
                                                              "role": "reader",
                                                              "pattern": "vision/*"}},
        {"method": "GET", "path": "/v1/roles"},
        {"method": "GET", "path": "/v1/policy"},
        {"method": "GET", "path": "/v1/policy/check", "params": {
            "subject": "ci-bot", "resource": "vision/cats", "action": "read"}},
        {"method": "POST", "path": "/v1/roles/revoke", "json": {"subject": "ci-bot",
                                                               "role": "reader",
                                                               "pattern": "vision/*"}},
    ])
    token = record("POST", "/v1/tokens", json={"user": "ci-bot", "name": "ci",
                                               "expires_days": 30})
    record.many([{"method": "GET", "path": "/v1/tokens", "params": {"user": "ci-bot"}},
                 {"method": "POST", "path": "/v1/tokens/revoke", "json": {"id": token["id"]}}])
    login = record("POST", "/v1/login", json={"name": me, "password": PASSWORD}, tcp=True)
    record("POST", "/v1/logout", json={}, tcp=True, bearer=login["token"])


def test_the_fakes_shapes_are_the_real_daemons(runtime: Runtime, alice: Identity,
                                               project: Path) -> None:
    home = runtime.make_dir(alice, "home")
    address = f"127.0.0.1:{_free_port()}"
    daemon = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}",
                    extra_env={"WORKSPACE_TCP": address}).start()
    try:
        record = Recorder(runtime, daemon, alice, f"http://{address}")
        _data(project, alice)
        _workspace_routes(record, project)
        _history_routes(record, project)
        _access_routes(record)
    finally:
        daemon.stop()
    shapes = record.shapes()
    if os.environ.get("WS_UPDATE_SHAPES"):
        real_shapes.SHAPES_FILE.write_text(json.dumps(shapes, indent=1, sort_keys=True) + "\n")
    recorded = real_shapes.load()
    changed = sorted(route for route in shapes.keys() | recorded.keys()
                     if not real_shapes.same(shapes.get(route), recorded.get(route)))
    assert not changed, (
        f"the daemon's answers to {changed} changed: rerun with WS_UPDATE_SHAPES=1 and review "
        "the diff of tests/cli/real_shapes.json")


def test_the_fake_refuses_answers_the_daemon_would_not_give(tmp_path: Path) -> None:
    """The drift the CLI tests had: b3: digests, missing fields, invented ones."""
    good = write_result(tmp_path)
    FakeDaemon(tmp_path / "s").stream("/v1/add", events_for(good))
    drifted = json.loads(json.dumps(good))
    drifted["pointer"]["digest"] = "b3:" + "ab" * 32
    del drifted["summary"]["new_bytes"]
    drifted["extra"] = 1
    with pytest.raises(AssertionError) as refused:
        FakeDaemon(tmp_path / "s").stream("/v1/add", events_for(drifted))
    message = str(refused.value)
    assert "$.pointer.digest: the daemon sends digest, here str ('b3:" in message
    assert "$.summary.new_bytes: missing" in message and "$.extra: the daemon sends no" in message
    with pytest.raises(AssertionError, match="no real answer recorded"):
        FakeDaemon(tmp_path / "s").reply("GET", "/v1/nonsense", {})

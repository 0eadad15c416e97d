"""Whole answers of the real daemon, for the fake to serve: complete, in the daemon's formats.

Built from the daemon's own classes where it has them (``VersionInfo``,
``TrackedInfo``, ``PathChange``, ``DirChange``, via cli_harness), and
otherwise with every field the real answer has; the fake checks each against
``real_shapes.json`` anyway. Tests override only the fields they are about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.cli.cli_harness import encoded
from workspace.datasets.history import PathChange
from workspace.workspaces.results import TrackedInfo

WHEN = "2026-11-21T19:20:15.123456+00:00"
OID_A, OID_B = "a" * 64, "b" * 64
Json = dict[str, Any]


def health(user: str = "alice", *, mode: str = "single", daemon_user: str = "alice",
           uid: int = 1000, lock_on_unlock: bool = False) -> Json:
    return {"version": "0.1.0", "user": user, "mode": mode,
            "daemon": {"user": daemon_user, "uid": uid}, "lock_on_unlock": lock_on_unlock}


def workspace(root: object, owner: str = "alice") -> Json:
    return {"path": str(root), "owner": owner, "created_at": WHEN}


def tracked(root: object, path: str = "data", dataset: str = "vision/cats", version: int = 1,
            kind: str = "dir") -> Json:
    info: Json = encoded(TrackedInfo(str(root), path, dataset, version, kind))
    return info


def locate(root: object, *, target: Json | None = None, relpath: str | None = None,
           others: tuple[Json, ...] = ()) -> Json:
    """`GET /v1/workspaces/locate`: ``target`` is the tracked path holding the path asked."""
    every = [*others, *([target] if target else [])]
    return {"workspace": workspace(root), "tracked": every, "target": target, "relpath": relpath}


def status_entry(path: str, dataset: str, version: int, *, kind: str = "dir",
                 added: tuple[str, ...] = (), modified: tuple[str, ...] = (),
                 deleted: tuple[str, ...] = ()) -> Json:
    return {"path": path, "dataset": dataset, "version": version, "kind": kind,
            "clean": not (added or modified or deleted), "added": list(added),
            "modified": list(modified), "deleted": list(deleted)}


def status(root: object, *entries: Json, unreadable: tuple[Json, ...] = ()) -> Json:
    return {"workspace": str(root), "tracked": list(entries), "unreadable": list(unreadable)}


def datasets(*versions: Any, admins: tuple[str, ...] = ("alice",)) -> Json:
    return {"datasets": [{"name": v.dataset, "latest": encoded(v)} for v in versions],
            "admins": list(admins)}


def dataset_log(*versions: Any) -> Json:
    return {"dataset": versions[0].dataset, "versions": [encoded(v) for v in versions]}


def file_log(dataset: str, path: str, *changes: PathChange) -> Json:
    return {"dataset": dataset, "path": path, "kind": "file",
            "changes": [encoded(c) for c in changes]}


def path_change(version: int, change: str, *, size: int | None = 10, author: str = "alice",
                message: str = "fix") -> PathChange:
    deleted = change == "deleted"
    return PathChange(version, change, None if deleted else OID_A, None if deleted else size,
                      author, datetime.fromisoformat(WHEN), message)


def blame(dataset: str = "vision/cats", version: int = 2,
          files: tuple[tuple[str, int], ...] = (), versions: Json | None = None) -> Json:
    """``files``: (path, the version that last changed it); ``versions``: "N" -> info."""
    return {"dataset": dataset, "version": version, "aliases": [],
            "versions": versions or {}, "paths": [path for path, _ in files],
            "path_versions": [number for _, number in files],
            "oids": [OID_A for _ in files], "sizes": [4 for _ in files]}


def blame_version(author: str = "alice", message: str = "first cut", *,
                  git_commit: str | None = None, pruned: bool = False) -> Json:
    return {"author": author, "created_at": WHEN, "message": message, "git_commit": git_commit,
            "pruned": pruned}


def audit(*events: Json) -> Json:
    return {"events": list(events)}


def user(name: str, *, uid: int | None = None, robot: bool = False,
         disabled: bool = False) -> Json:
    return {"name": name, "uid": uid, "robot": robot, "disabled": disabled, "created_at": WHEN}


def role_granted(subject: str, role: str, pattern: str, *, added: bool = True) -> Json:
    return {"subject": subject, "role": role, "pattern": pattern, "added": added}


def role_revoked(subject: str, role: str, pattern: str) -> Json:
    return {"subject": subject, "role": role, "pattern": pattern, "revoked": True}


def assignment(subject: str, role: str, pattern: str, source: str = "api") -> Json:
    return {"subject": subject, "role": role, "pattern": pattern, "source": source}


def rule_g(subject: str, role: str, pattern: str, source: str = "api") -> Json:
    return {"kind": "g", **assignment(subject, role, pattern, source)}


def rule_p(subject: str, pattern: str, action: str, effect: str = "allow",
           source: str = "policy.csv") -> Json:
    return {"kind": "p", "subject": subject, "pattern": pattern, "action": action,
            "effect": effect, "source": source}


def check(subject: str, resource: str, action: str, *, allowed: bool, rule: str | None,
          known: bool = True) -> Json:
    return {"subject": subject, "resource": resource, "action": action, "allowed": allowed,
            "rule": rule, "known": known}


def token(token_id: str = "t1", name: str = "laptop", *, state: str = "active",
          expires_at: str | None = None) -> Json:
    return {"id": token_id, "name": name, "state": state, "created_at": WHEN,
            "expires_at": expires_at, "last_used_at": None}


def token_created(user_name: str, secret: str, token_id: str = "t1",
                  expires_at: str | None = None) -> Json:
    return {"id": token_id, "token": secret, "expires_at": expires_at, "user": user_name}


def login(jwt: str, expires_at: str, user_name: str = "alice") -> Json:
    return {"token": jwt, "expires_at": expires_at, "user": user_name}


"""Resolvers: which (action, resource) checks a request needs.

Resources are dataset names (what roles are granted on, by pattern) or
admin resources (``admin:users``, ``admin:policy``, ``admin:audit``, ``admin:remotes``).
Actions: ``read`` < ``write`` < ``maintain`` < ``admin`` (roles inherit).
A resolver that cannot parse the request returns no dataset check and lets
the route's own validation report the error; it never allows by itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from workspace.api.authz import Check, Facts, Resolver
from workspace.auth import api_tokens
from workspace.db.queries import datasets as dq
from workspace.errors import InvalidInput, WorkspaceError
from workspace.refs import parse_ref
from workspace.workspaces import registry

ADMIN_USERS = "admin:users"
ADMIN_POLICY = "admin:policy"
ADMIN_AUDIT = "admin:audit"
ADMIN_METRICS = "admin:metrics"
ADMIN_REMOTES = "admin:remotes"
ADMIN_STORE = "admin:store"


def _named(name: str, resolver: Resolver, *, pure: bool = True) -> Resolver:
    """Name a resolver (the route-coverage report shows it); ``pure`` means it reads only
    the request, never the database, so a cached decision can be used on the event loop."""
    resolver.__name__ = name
    resolver.pure = pure  # type: ignore[attr-defined]
    return resolver


def dataset_in_body(action: str, field: str = "dataset") -> Resolver:
    def resolve(facts: Facts) -> Sequence[Check]:
        return [(action, name) for name in _names([facts.body.get(field)])]

    return _named(f"{action} dataset in body.{field}", resolve)


def ref_in_body(action: str, field: str = "ref") -> Resolver:
    def resolve(facts: Facts) -> Sequence[Check]:
        return [(action, name) for name in _ref_names([facts.body.get(field)])]

    return _named(f"{action} dataset of body.{field}", resolve)


def refs_in_query(action: str, *fields: str) -> Resolver:
    def resolve(facts: Facts) -> Sequence[Check]:
        return [(action, name) for name in _ref_names([facts.query.get(f) for f in fields])]

    return _named(f"{action} datasets of query {', '.join(fields)}", resolve)


def tracked_dataset(action: str, *, ref_field: str | None = None) -> Resolver:
    """The dataset bound to the workspace path in the body or query (``path``).

    With ``ref_field``, a reference given there wins (checkout to another dataset).
    """

    def resolve(facts: Facts) -> Sequence[Check]:
        if ref_field and facts.body.get(ref_field):
            return [(action, name) for name in _ref_names([facts.body.get(ref_field)])]
        path = facts.body.get("path") or facts.query.get("path")
        name = _tracked_name(facts, path)
        return [(action, name)] if name else []

    return _named(f"{action} dataset tracked at path", resolve, pure=False)


def log_target(facts: Facts) -> Sequence[Check]:
    if facts.query.get("ref"):
        return [("read", name) for name in _ref_names([facts.query.get("ref")])]
    name = _tracked_name(facts, facts.query.get("path"))
    return [("read", name)] if name else []


def _pure(resolver: Resolver) -> Resolver:
    resolver.pure = True  # type: ignore[attr-defined]
    return resolver


@_pure
def audit_scope(facts: Facts) -> Sequence[Check]:
    """Your own events, or a dataset you may read; anything wider is for admins."""
    user, dataset = facts.query.get("user"), facts.query.get("dataset")
    if dataset:
        return [("read", name) for name in _names([dataset])]
    if user == facts.caller.name:
        return []
    return [("admin", ADMIN_AUDIT)]


def self_or_admin(field: str) -> Resolver:
    """Acting on your own account (body or query ``field``) is yours; others' is admin."""

    def resolve(facts: Facts) -> Sequence[Check]:
        name = facts.body.get(field) or facts.query.get(field)
        return [] if name == facts.caller.name else [("admin", ADMIN_USERS)]

    return _named(f"self, or admin on {ADMIN_USERS}", resolve)


def token_owner(facts: Facts) -> Sequence[Check]:
    """Revoking your own API token is yours; anyone else's is admin."""
    token_id = facts.body.get("id")
    if isinstance(token_id, str):
        try:
            with facts.ctx.db.read() as session:
                if api_tokens.info(session, token_id).user_id == facts.caller.user_id:
                    return []
        except WorkspaceError:
            pass  # unknown id: only an admin learns that
    return [("admin", ADMIN_USERS)]


@_pure
def push_scope(facts: Facts) -> Sequence[Check]:
    """``write`` on the dataset of ``ref``; for ``all`` (no ref), any known user: the
    service then pushes only the datasets the caller may write."""
    return [("write", name) for name in _ref_names([facts.body.get("ref")])]


@_pure
def grant_scope(facts: Facts) -> Sequence[Check]:
    """Granting or revoking ROLE on PATTERN: you must maintain PATTERN and hold ROLE there."""
    pattern, role = facts.body.get("pattern"), facts.body.get("role")
    if not isinstance(pattern, str) or not pattern or not isinstance(role, str) or not role:
        return [("admin", ADMIN_POLICY)]
    return [("holds:maintainer", pattern), (f"holds:{role}", pattern)]


@_pure
def policy_query_scope(facts: Facts) -> Sequence[Check]:
    """Asking about yourself is yours; about anyone else, or everyone, is admin."""
    if facts.query.get("subject") == facts.caller.name:
        return []
    return [("admin", ADMIN_POLICY)]


@_pure
def alias_change(facts: Facts) -> Sequence[Check]:
    """Setting, moving or removing ``body.name`` of ``body.dataset``: ``maintain`` on the
    dataset, or ``promote`` when the name is protected (setting ``protected_aliases``)."""
    name, dataset = facts.body.get("name"), facts.body.get("dataset")
    action = "promote" if isinstance(name, str) and facts.access.is_protected(name) else "maintain"
    return [(action, n) for n in _names([dataset])]


def lock_scope(facts: Facts) -> Sequence[Check]:
    """Taking or releasing locks: ``write`` on each dataset named (``body.dataset``, or the
    ones tracked at ``body.paths``); breaking someone else's (``force``): ``admin`` there."""
    action = "admin" if facts.body.get("force") is True else "write"
    if facts.body.get("dataset") is not None:
        return [(action, name) for name in _names([facts.body.get("dataset")])]
    paths = facts.body.get("paths")
    names = {_tracked_name(facts, p) for p in paths} if isinstance(paths, list) else set()
    return [(action, name) for name in sorted(n for n in names if n)]


def admin(resource: str) -> Resolver:
    def resolve(facts: Facts) -> Sequence[Check]:
        return [("admin", resource)]

    return _named(f"admin on {resource}", resolve)


def _names(values: Sequence[object]) -> list[str]:
    return [value for value in values if isinstance(value, str) and value]


def _ref_names(values: Sequence[object]) -> list[str]:
    names = []
    for value in _names(values):
        try:
            names.append(parse_ref(value).dataset)
        except InvalidInput:
            continue  # the route reports it
    return names


def _tracked_name(facts: Facts, path: object) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    try:
        with facts.ctx.db.read() as session:
            found = registry.locate(session, facts.caller, path)
            if found.tracked is None:
                return None
            return dq.dataset_names(session, [found.tracked.dataset_id])[found.tracked.dataset_id]
    except WorkspaceError:
        return None  # not the caller's workspace: the route itself says so

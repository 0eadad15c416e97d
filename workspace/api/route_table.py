"""Every route an app serves, with its full path template: included routers and mounts too.

FastAPI (0.16x) no longer copies the routes of an included router into
``app.routes``: it keeps one entry per included router, and a request's
``scope["route"]`` is the route as declared on its router (``/health``, not
``/v1/health``). ``fastapi.routing.iter_route_contexts`` is its public way to
see the routes as served; this module walks it (and mounted FastAPI apps,
such as the dashboard at ``/ui``) so that the metrics label a request with
the template it was served under, and the tests that check every route's
authorization requirement see every route. On an older FastAPI that still
flattens routes, the routes themselves are the answer.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.dependencies.models import Dependant
from starlette.routing import BaseRoute, Mount

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # an older FastAPI flattens included routers into app.routes itself
    iter_route_contexts = None  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class ServedRoute:
    path: str  # the full template, e.g. /v1/ls or /ui/files
    methods: frozenset[str]
    dependant: Dependant | None  # None for plain Starlette routes (e.g. /openapi.json)
    declared: BaseRoute  # the route object as declared (what ``scope["route"]`` holds)


def served_routes(routes: Sequence[BaseRoute], prefix: str = "") -> Iterator[ServedRoute]:
    """Every route below ``routes``, mounted FastAPI/Starlette apps walked into."""
    for declared, effective in _contexts(routes):
        app = getattr(declared, "app", None)
        if isinstance(declared, Mount) and isinstance(getattr(app, "routes", None), list):
            yield from served_routes(app.routes, prefix + declared.path)  # type: ignore[union-attr]
            continue
        path = getattr(effective, "path_format", None) or getattr(effective, "path", None)
        if isinstance(path, str):
            yield ServedRoute(prefix + path, frozenset(getattr(effective, "methods", None) or ()),
                              getattr(effective, "dependant", None), declared)


class RouteLabels:
    """The metrics' route label of a finished request: the template its route is served
    under, ``PREFIX/*`` for an unmatched path inside a mount (static files), else
    ``unmatched``. Never the raw path, so the label set stays as small as the route table."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._known: dict[int, str] | None = None  # built at the first request: after mounts

    def __call__(self, scope: MutableMapping[str, Any], outer_root: str) -> str:
        if self._known is None:
            self._known = {id(r.declared): r.path for r in served_routes(self._app.routes)}
        route = scope.get("route")
        found = self._known.get(id(route)) if route is not None else None
        if found is not None:
            return found
        mount = str(scope.get("root_path", ""))[len(outer_root):]
        return f"{mount}/*" if mount else "unmatched"


def _contexts(routes: Sequence[BaseRoute]) -> Iterator[tuple[BaseRoute, Any]]:
    if iter_route_contexts is None:
        for route in routes:
            yield route, route
        return
    for context in iter_route_contexts(routes):
        yield context.original_route, context

"""The real app, built in process to list its routes and schema (nothing is served).

``create_app`` requires an ``Access`` with a real ``Authorizer`` (an app
without one cannot be built); this one sits on an in-memory SQLite database
that is never opened, because listing routes asks no policy question. The
dashboard is mounted as the daemon mounts it, so its pages are listed too.
"""

from __future__ import annotations

from types import SimpleNamespace

from fastapi import FastAPI

from workspace.api import create_app
from workspace.api.access import Access
from workspace.api.route_table import ServedRoute, served_routes
from workspace.config import Settings
from workspace.db import Database
from workspace.policy import Authorizer
from workspace.web import with_dashboard


def route_listing_app(settings: Settings) -> FastAPI:
    access = Access(authorizer=Authorizer(Database("sqlite://")))
    app = create_app(SimpleNamespace(), settings, access)  # type: ignore[arg-type]
    return with_dashboard(app, settings)


def api_routes(app: FastAPI) -> list[tuple[str, ServedRoute]]:
    """(full path, route) of every route of ``app`` that has a handler, as it is served
    (``api/route_table.py``: included routers and mounted apps walked into). A listing
    that finds nothing would make every "each route has..." test pass vacuously, so
    ``test_route_coverage`` checks this one against the OpenAPI schema."""
    return [(route.path, route) for route in served_routes(app.routes)
            if route.dependant is not None]

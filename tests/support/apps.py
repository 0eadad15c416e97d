"""The real app, built in process to list its routes and schema (nothing is served).

``create_app`` requires an ``Access`` with a real ``Authorizer`` (an app
without one cannot be built); this one sits on an in-memory SQLite database
that is never opened, because listing routes asks no policy question.
"""

from __future__ import annotations

from types import SimpleNamespace

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute

from workspace.api import create_app
from workspace.api.access import Access
from workspace.config import Settings
from workspace.db import Database
from workspace.policy import Authorizer


def route_listing_app(settings: Settings) -> FastAPI:
    access = Access(authorizer=Authorizer(Database("sqlite://")))
    return create_app(SimpleNamespace(), settings, access)  # type: ignore[arg-type]


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    """(full path, route) of every API route of ``app``.

    FastAPI 0.16x keeps an included router as one ``_IncludedRouter`` entry in
    ``app.routes`` (listed by ``iter_route_contexts``); older versions copied
    each route into ``app.routes`` with its prefix. A listing that finds
    nothing would make every "each route has..." test pass vacuously, so
    ``test_route_coverage`` checks this one against the OpenAPI schema.
    """
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:
        return [(route.path, route) for route in app.routes if isinstance(route, APIRoute)]
    return [(str(context.path), context.original_route) for context in contexts(app.routes)
            if isinstance(context.original_route, APIRoute)]

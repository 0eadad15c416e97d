"""The web dashboard: server-rendered pages over the same services and policy as the API.

Layer: above ``api/`` (it reuses the API's authorization dependency, resolvers
and request dependencies), below ``daemon.py``, which mounts it. Nothing
imports ``web/`` but the daemon (and tests).

The dashboard is a FastAPI application mounted at ``/ui`` on the API app. It
shares the API's state (services, settings, policy, metrics) and differs in
three things: its identity is the session cookie (``session.session_caller``
stands in for ``get_caller`` through ``dependency_overrides``, so every
``require(...)`` of a page decides on the logged-in user), its errors are
pages (``errors.py``), and it answers only on the TCP listener (``guard``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from workspace.api.deps import get_caller
from workspace.config import Settings
from workspace.web import errors, pages_admin, pages_audit, pages_datasets, pages_session
from workspace.web.guard import DashboardGuard
from workspace.web.render import STATIC
from workspace.web.session import session_caller

PREFIX = "/ui"


def with_dashboard(app: FastAPI, settings: Settings) -> FastAPI:
    """``app`` with the dashboard mounted at ``/ui`` (unless the ``dashboard`` setting is off)."""
    if settings.dashboard:
        app.mount(PREFIX, dashboard(app))
    return app


def dashboard(api: FastAPI) -> FastAPI:
    web = FastAPI(title="workspace dashboard", docs_url=None, redoc_url=None,
                  openapi_url=None)
    web.state = api.state
    web.dependency_overrides[get_caller] = session_caller
    for module in (pages_session, pages_datasets, pages_audit, pages_admin):
        web.include_router(module.router)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    errors.install(web)
    web.add_middleware(DashboardGuard)
    return web

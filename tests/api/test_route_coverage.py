"""Every route and every dashboard page carries exactly one authorization requirement.

Built from the real app as the daemon serves it (the API with the dashboard
mounted at /ui), so a route or page added later without ``require(...)``,
``authenticated()`` or ``public()`` fails here before it can ship. The routes
are read through ``api/route_table.py``: FastAPI 0.16x keeps an included
router as one entry of ``app.routes``, so a plain walk of ``app.routes`` for
``APIRoute`` objects finds none at all and would check nothing.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from tests.support.apps import api_routes, route_listing_app
from workspace.api.authz import Requirement
from workspace.api.route_table import ServedRoute, served_routes
from workspace.config import Settings

NO_ROUTE_HANDLER = {"/openapi.json", "/ui/static/{path}"}  # the schema, the stylesheet


def requirements(dependant: Dependant) -> list[Requirement]:
    found = []
    for sub in dependant.dependencies:
        marker = getattr(sub.call, "requirement", None)
        if isinstance(marker, Requirement):
            found.append(marker)
        found.extend(requirements(sub))
    return found


def _app() -> FastAPI:
    return route_listing_app(Settings.load())


def _routes() -> list[ServedRoute]:
    return [route for _, route in api_routes(_app())]


def _name(route: ServedRoute) -> str:
    return f"{sorted(route.methods)} {route.path}"


def test_the_listing_sees_every_route_of_the_schema() -> None:
    """The tests below cannot pass by finding no routes (FastAPI changed how it keeps them)."""
    schema = {f"{method.upper()} {path}"
              for path, operations in _app().openapi()["paths"].items() for method in operations}
    listed = {f"{method} {route.path}" for route in _routes() for method in route.methods}
    assert schema and schema <= listed, sorted(schema - listed)


def test_the_table_holds_the_api_the_metrics_and_the_pages() -> None:
    paths = {route.path for route in _routes()}
    assert {"/v1/ls", "/v1/login", "/v1/audit/verify", "/metrics", "/ui/login", "/ui/files",
            "/ui/admin/users"} <= paths
    assert len(paths) > 40


def test_every_route_has_exactly_one_authorization_requirement() -> None:
    missing: list[str] = []
    doubled: list[str] = []
    for route in _routes():
        assert route.dependant is not None
        count = len(requirements(route.dependant))
        if count == 0:
            missing.append(_name(route))
        elif count > 1:
            doubled.append(_name(route))
    assert not missing, f"routes without an authorization decision: {missing}"
    assert not doubled, f"routes with more than one requirement: {doubled}"


def test_only_login_is_public() -> None:
    public = {route.path for route in _routes() if route.dependant is not None
              and any(r.kind == "public" for r in requirements(route.dependant))}
    assert public == {"/v1/login", "/ui/login"}


def test_nothing_else_is_served_without_a_route_handler() -> None:
    bare = {route.path for route in served_routes(_app().routes) if route.dependant is None}
    assert bare == NO_ROUTE_HANDLER

"""Every API route carries exactly one authorization requirement (api/authz.py).

Built from the real app, so a route added later without ``require(...)``,
``authenticated()`` or ``public()`` fails here before it can ship.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tests.support.apps import api_routes, route_listing_app
from workspace.api.authz import Requirement
from workspace.config import Settings


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


def _routes() -> list[tuple[str, APIRoute]]:
    return api_routes(_app())


def test_the_listing_sees_every_route_of_the_schema() -> None:
    """The tests below cannot pass by finding no routes (FastAPI changed how it keeps them)."""
    schema = {f"{method.upper()} {path}"
              for path, operations in _app().openapi()["paths"].items() for method in operations}
    listed = {f"{method} {path}" for path, route in _routes() for method in route.methods}
    assert schema and schema <= listed, sorted(schema - listed)


def test_every_route_has_exactly_one_authorization_requirement() -> None:
    missing: list[str] = []
    doubled: list[str] = []
    for path, route in _routes():
        count = len(requirements(route.dependant))
        name = f"{sorted(route.methods)} {path}"
        if count == 0:
            missing.append(name)
        elif count > 1:
            doubled.append(name)
    assert not missing, f"routes without an authorization decision: {missing}"
    assert not doubled, f"routes with more than one requirement: {doubled}"


def test_only_login_is_public() -> None:
    public = {path for path, route in _routes()
              if any(r.kind == "public" for r in requirements(route.dependant))}
    assert public == {"/v1/login"}

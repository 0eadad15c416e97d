"""Every API route carries exactly one authorization requirement (api/authz.py).

Built from the real app, so a route added later without ``require(...)``,
``authenticated()`` or ``public()`` fails here before it can ship.
"""

from __future__ import annotations

from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from workspace.api import create_app
from workspace.api.authz import Requirement
from workspace.config import Settings


def _requirements(dependant: Dependant) -> list[Requirement]:
    found = []
    for sub in dependant.dependencies:
        marker = getattr(sub.call, "requirement", None)
        if isinstance(marker, Requirement):
            found.append(marker)
        found.extend(_requirements(sub))
    return found


def _routes() -> list[APIRoute]:
    app = create_app(object(), Settings.load())  # type: ignore[arg-type]
    return [route for route in app.routes if isinstance(route, APIRoute)]


def test_every_route_has_exactly_one_authorization_requirement() -> None:
    missing: list[str] = []
    doubled: list[str] = []
    for route in _routes():
        count = len(_requirements(route.dependant))
        name = f"{sorted(route.methods)} {route.path}"
        if count == 0:
            missing.append(name)
        elif count > 1:
            doubled.append(name)
    assert not missing, f"routes without an authorization decision: {missing}"
    assert not doubled, f"routes with more than one requirement: {doubled}"


def test_only_login_is_public() -> None:
    public: list[Any] = [route.path for route in _routes()
                         if any(r.kind == "public" for r in _requirements(route.dependant))]
    assert set(public) <= {"/v1/login"}

"""``GET /metrics``: the Prometheus exposition (see workspace/metrics.py for what is in it).

For an admin (anyone allowed ``admin`` on ``admin:metrics``, e.g. a robot with an
API token granted just that), or, when ``metrics_from_localhost`` is set, for any
client connecting over TCP from the loopback address.
"""

from __future__ import annotations

import ipaddress
from typing import cast

from fastapi import APIRouter, Request, Response

from workspace.api.authz import require_unless
from workspace.api.peercred import peer_from_state
from workspace.api.resources import ADMIN_METRICS, admin
from workspace.config import Settings
from workspace.metrics import CONTENT_TYPE, Metrics

router = APIRouter()


def loopback_allowed(request: Request) -> bool:
    """A TCP client on 127.0.0.0/8 or ::1, and the setting says that is enough."""
    settings = cast(Settings, request.app.state.settings)
    if not settings.metrics_from_localhost or peer_from_state(request.state) is not None:
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get("/metrics", dependencies=[require_unless(loopback_allowed, admin(ADMIN_METRICS))])
def metrics(request: Request) -> Response:
    registry = cast(Metrics, request.app.state.metrics)
    return Response(registry.exposition(), media_type=CONTENT_TYPE)

"""The HTTP API: ``create_app(ctx, settings)`` and its routes; one error handler."""

from workspace.api.app import create_app

__all__ = ["create_app"]

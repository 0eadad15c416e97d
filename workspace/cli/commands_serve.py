"""`ws serve`: run the daemon in the foreground (systemd runs the same command)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from workspace.cli.state import load_settings, state

if TYPE_CHECKING:
    from workspace.config import Settings


def serve(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", metavar="FILE", help="TOML config file; default: $WORKSPACE_CONFIG, if set."
        ),
    ] = None,
    home: Annotated[
        Path | None,
        typer.Option("--home", metavar="DIR", help="Directory for the socket, database and store."),
    ] = None,
    socket: Annotated[
        Path | None,
        typer.Option(
            "--socket", metavar="PATH", help="Unix socket to listen on; default: HOME/ws.sock."
        ),
    ] = None,
    tcp: Annotated[
        str | None,
        typer.Option("--tcp", metavar="HOST:PORT", help="Also listen for HTTP on this address."),
    ] = None,
) -> None:
    """Run the workspace daemon: the one writer of the shared store."""
    chosen_socket = socket or state(ctx).socket_option
    settings = load_settings(config, home=home, socket=chosen_socket, tcp=tcp)
    _daemon_serve()(settings)


def _daemon_serve() -> Callable[[Settings], None]:
    """The daemon entry point, imported only here: the client never loads the server."""
    module = importlib.import_module("workspace.daemon")
    return cast("Callable[[Settings], None]", module.serve)

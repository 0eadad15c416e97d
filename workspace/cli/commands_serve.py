"""`ws serve`: run the daemon in the foreground (systemd runs the same command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workspace.cli.state import state
from workspace.client.connect import load_settings


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
            "--socket",
            metavar="PATH",
            help="Unix socket to listen on; default: $WORKSPACE_SOCKET or HOME/ws.sock.",
        ),
    ] = None,
    tcp: Annotated[
        str | None,
        typer.Option("--tcp", metavar="HOST:PORT", help="Also listen for HTTP on this address."),
    ] = None,
    admin: Annotated[
        str | None,
        typer.Option("--admin", metavar="NAME",
                     help="Unix user to make the first admin (service installs; single-user "
                     "mode makes the user running the daemon its admin)."),
    ] = None,
) -> None:
    """Run the workspace daemon: the one writer of the shared store."""
    chosen_socket = socket or state(ctx).socket_option
    settings = load_settings(config, home=home, socket=chosen_socket, tcp=tcp, admin=admin)
    # Imported here only: every other command is a client and never loads the server.
    from workspace.daemon import serve as run_daemon

    run_daemon(settings)

"""What every command shares: the daemon to talk to and the common options.

Finding the daemon (socket, ``--server``, ``$WORKSPACE_SERVER``) is the job of
``workspace.client.connect``, the door the Python API uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workspace.client.connect import chosen_server, connect, default_socket

if TYPE_CHECKING:
    from workspace.client.daemon import DaemonClient

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the daemon's JSON answer instead of text.")
]


@dataclass(frozen=True, slots=True)
class State:
    """The global options, handed from the root callback to each command."""

    socket_option: Path | None = None
    server_option: str | None = None

    @property
    def socket(self) -> Path:
        return self.socket_option or default_socket()

    @property
    def server(self) -> str | None:
        """The remote daemon's URL, if any: ``--server``, else ``$WORKSPACE_SERVER``
        unless ``--socket`` was given (an explicit option beats the environment)."""
        return chosen_server(self.server_option, socket_given=self.socket_option is not None)

    def client(self) -> DaemonClient:
        """The local daemon's client, or the remote one's with your token (exit 4 if none)."""
        return connect(socket=self.socket_option, server=self.server_option)


def state(ctx: typer.Context) -> State:
    """The State the root callback stored (a fresh default one if run without it)."""
    found = ctx.find_object(State)
    return found if found is not None else State()

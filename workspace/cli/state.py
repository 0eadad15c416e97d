"""What every command shares: the daemon to talk to and the common options.

The daemon is the one on the local Unix socket, unless ``--server URL`` (or
``$WORKSPACE_SERVER``) names a remote one: then every command goes over TCP
with a bearer token (credentials.py).

The default socket is resolved here without importing ``workspace.config``
when the environment makes the answer obvious: loading pydantic-settings
would add ~40 ms (15%) to every command. Whenever a config file or an unusual
variable is involved, ``Settings.load()`` decides, so the two cannot disagree
(tests/cli compares them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workspace.errors import InvalidInput

if TYPE_CHECKING:
    from workspace.cli.client import DaemonClient
    from workspace.config import Settings

# Mirrors workspace.config.DEFAULT_HOME and SOCKET_NAME (kept in step by a test).
_DEFAULT_HOME = "~/.local/share/workspace"
_SOCKET_NAME = "ws.sock"

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
        from workspace.cli.credentials import SERVER_VARIABLE, normalize_server

        variable = "" if self.socket_option else os.environ.get(SERVER_VARIABLE, "").strip()
        chosen = self.server_option or variable
        return normalize_server(chosen) if chosen else None

    def client(self) -> DaemonClient:
        """The local daemon's client, or the remote one's with your token (exit 4 if none)."""
        from workspace.cli.client import DaemonClient
        from workspace.cli.credentials import remote_for

        server = self.server
        if server is None:
            return DaemonClient(self.socket)
        return DaemonClient(remote=remote_for(server))


def state(ctx: typer.Context) -> State:
    """The State the root callback stored (a fresh default one if run without it)."""
    found = ctx.find_object(State)
    return found if found is not None else State()


def default_socket() -> Path:
    """``$WORKSPACE_SOCKET``, else ``$WORKSPACE_HOME/ws.sock``, as Settings would say."""
    env = {key.lower(): value for key, value in os.environ.items()}
    socket, home = env.get("workspace_socket"), env.get("workspace_home")
    if "workspace_config" in env or socket == "" or home == "":
        return load_settings().socket_path
    if socket:
        return _absolute(socket)
    return _absolute(home or _DEFAULT_HOME) / _SOCKET_NAME


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """``Settings.load`` with pydantic's validation errors turned into ours."""
    from workspace.config import Settings

    try:
        return Settings.load(config_file, **overrides)
    except ValueError as exc:  # pydantic.ValidationError, without importing pydantic here
        raise InvalidInput(
            f"invalid configuration: {exc}",
            hint="check the WORKSPACE_* variables and the config file (docs/configuration.md)",
        ) from exc


def _absolute(value: str) -> Path:
    return Path(os.path.expanduser(value)).absolute()

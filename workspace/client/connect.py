"""Which daemon to talk to: the local Unix socket, or a remote server with a token.

The daemon is the one on the local Unix socket, unless a server URL is given
(``--server URL``, ``$WORKSPACE_SERVER``, or ``connect(server=...)``): then
every call goes over TCP with a bearer token (credentials.py).

The default socket is resolved here without importing ``workspace.config``
when the environment makes the answer obvious: loading pydantic-settings
would add ~40 ms (15%) to every command. Whenever a config file or an unusual
variable is involved, ``Settings.load()`` decides, so the two cannot disagree
(tests/cli compares them).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workspace.errors import InvalidInput

if TYPE_CHECKING:
    from workspace.client.daemon import DaemonClient
    from workspace.config import Settings

# Mirrors workspace.config.DEFAULT_HOME and SOCKET_NAME (kept in step by a test).
_DEFAULT_HOME = "~/.local/share/workspace"
_SOCKET_NAME = "ws.sock"
SERVER_VARIABLE = "WORKSPACE_SERVER"
"""Names a remote daemon (``ws --server``'s default)."""


def connect(*, socket: Path | None = None, server: str | None = None) -> DaemonClient:
    """A client of the daemon at ``server`` (with your token), else on ``socket``.

    With neither, ``$WORKSPACE_SERVER`` names a remote daemon, else the local
    socket is ``default_socket()``. An explicit ``socket`` beats the variable.
    """
    from workspace.client.daemon import DaemonClient

    chosen = chosen_server(server, socket_given=socket is not None)
    if chosen is None:
        return DaemonClient(socket or default_socket())
    from workspace.client.credentials import remote_for

    return DaemonClient(remote=remote_for(chosen))


def chosen_server(server: str | None, *, socket_given: bool) -> str | None:
    """The remote daemon's normalized URL: ``server``, else ``$WORKSPACE_SERVER`` unless a
    socket was given (an explicit option beats the environment); None for the socket."""
    variable = "" if socket_given else os.environ.get(SERVER_VARIABLE, "").strip()
    wanted = server or variable
    if not wanted:
        return None
    from workspace.client.credentials import normalize_server

    return normalize_server(wanted)


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

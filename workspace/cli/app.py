"""The Typer app: every command, its options and its help, built for what was asked.

Importing a command's module costs time (its own imports, Typer's reading of
its signature), so ``build(args)`` registers only the command (or group) the
arguments name; `ws --help`, an unknown name, or no name builds them all.
``main.py`` calls it for everything its light path does not run.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from workspace import __version__
from workspace.cli.output import say
from workspace.cli.state import State

_COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Workspace": (
        ("init", "commands_workspace:init"),
        ("deinit", "commands_workspace:deinit"),
        ("add", "commands_data:add"),
        ("commit", "commands_data:commit"),
        ("status", "commands_workspace:status"),
        ("unlock", "commands_workspace:unlock_command"),
        ("untrack", "commands_workspace:untrack"),
        ("checkout", "commands_checkout:checkout"),
        ("get", "commands_data:get"),
        ("lock", "commands_locks:lock"),
        ("locks", "commands_locks:locks"),
    ),
    "Datasets": (
        ("datasets", "commands_datasets:datasets"),
        ("ls", "commands_datasets:ls"),
        ("diff", "commands_datasets:diff"),
        ("tag", "commands_datasets:tag"),
    ),
    "Remotes": (
        ("push", "commands_remote:push"),
        ("pull", "commands_remote:pull"),
    ),
    "History": (
        ("log", "commands_history:log"),
        ("blame", "commands_blame:blame"),
    ),
    "Access": (("login", "commands_users:login"), ("logout", "commands_users:logout")),
    "Store": (
        ("prune", "commands_store:prune"),
        ("rm", "commands_store:rm"),
        ("du", "commands_store:du"),
        ("gc", "commands_store:gc"),
        ("fsck", "commands_store:fsck"),
    ),
    "Daemon": (("serve", "commands_serve:serve"),),
}
_GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "Datasets": (("alias", "commands_aliases:alias_app"),),
    "Access": (
        ("user", "commands_users:user_app"),
        ("role", "commands_access:role_app"),
        ("policy", "commands_access:policy_app"),
        ("token", "commands_users:token_app"),
        ("acl", "commands_acl:acl_app"),
    ),
    "Remotes": (("remote", "commands_remote:remote_app"),),
    "Store": (("quota", "commands_store:quota_app"),),
    "History": (("audit", "commands_audit:audit_app"),),
}
GLOBAL_OPTIONS = ("--socket", "--server")
"""The root's options that take a value (``--version`` takes none)."""


def build(args: Sequence[str] = ()) -> typer.Typer:
    """The app with the one command or group ``args`` name, or with all of them."""
    wanted = command_name(args)
    known = {name for table in (_COMMANDS, _GROUPS) for items in table.values()
             for name, _ in items}
    only = wanted if wanted in known else None
    app = typer.Typer(
        name="ws",
        help="Version, share and audit datasets through the workspace daemon's shared store.",
        add_completion=False,
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for panel, commands in _COMMANDS.items():
        for name, where in commands:
            if only in (None, name):
                app.command(name, rich_help_panel=panel)(_load(where))
    for panel, groups in _GROUPS.items():
        for name, where in groups:
            if only in (None, name):
                app.add_typer(_load(where), name=name, rich_help_panel=panel)
    return app


def command_name(args: Sequence[str]) -> str | None:
    """The first argument after the root's options: the command's name, if it is one."""
    index = 0
    while index < len(args):
        name, eq, _ = args[index].partition("=")
        if name not in GLOBAL_OPTIONS:
            return args[index]
        index += 1 if eq else 2
    return None


def _load(where: str) -> Any:
    module, attribute = where.split(":")
    return getattr(importlib.import_module(f"workspace.cli.{module}"), attribute)


def _show_version(value: bool) -> None:
    if value:
        say(f"ws {__version__}")
        raise typer.Exit()


def _root(
    ctx: typer.Context,
    socket: Annotated[
        Path | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            help="The daemon's Unix socket; default: $WORKSPACE_SOCKET or $WORKSPACE_HOME/ws.sock.",
        ),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            metavar="URL",
            help="Talk to the daemon at URL over HTTP, with your `ws login` token or "
            "$WORKSPACE_TOKEN; default: $WORKSPACE_SERVER, else the Unix socket.",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    ctx.obj = State(socket_option=socket, server_option=server)


def __getattr__(name: str) -> Any:
    """``app``: the full app, every command registered (the docs tests read it)."""
    if name == "app":
        return build()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

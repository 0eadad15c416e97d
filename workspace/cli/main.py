"""The `ws` program: the Typer app, its global options, and the one error wrapper.

``main()`` is the only place where a ``WorkspaceError`` becomes output and an
exit code (docs/cli.md lists them); commands just raise. Usage errors are
Typer's and exit 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from workspace import __version__
from workspace.cli import (
    commands_access,
    commands_acl,
    commands_aliases,
    commands_audit,
    commands_blame,
    commands_checkout,
    commands_data,
    commands_datasets,
    commands_history,
    commands_locks,
    commands_remote,
    commands_serve,
    commands_store,
    commands_users,
    commands_workspace,
)
from workspace.cli.output import print_error, say
from workspace.cli.state import State
from workspace.client.paths import unresolvable
from workspace.errors import WorkspaceError

app = typer.Typer(
    name="ws",
    help="Version, share and audit datasets through the workspace daemon's shared store.",
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_COMMANDS: dict[str, tuple[tuple[str, Callable[..., None]], ...]] = {
    "Workspace": (
        ("init", commands_workspace.init),
        ("deinit", commands_workspace.deinit),
        ("add", commands_data.add),
        ("commit", commands_data.commit),
        ("status", commands_workspace.status),
        ("unlock", commands_workspace.unlock_command),
        ("untrack", commands_workspace.untrack),
        ("checkout", commands_checkout.checkout),
        ("get", commands_data.get),
        ("lock", commands_locks.lock),
        ("locks", commands_locks.locks),
    ),
    "Datasets": (
        ("datasets", commands_datasets.datasets),
        ("ls", commands_datasets.ls),
        ("diff", commands_datasets.diff),
        ("tag", commands_datasets.tag),
    ),
    "Remotes": (
        ("push", commands_remote.push),
        ("pull", commands_remote.pull),
    ),
    "History": (
        ("log", commands_history.log),
        ("blame", commands_blame.blame),
    ),
    "Access": (("login", commands_users.login), ("logout", commands_users.logout)),
    "Store": (
        ("prune", commands_store.prune),
        ("rm", commands_store.rm),
        ("du", commands_store.du),
        ("gc", commands_store.gc),
        ("fsck", commands_store.fsck),
    ),
    "Daemon": (("serve", commands_serve.serve),),
}
_GROUPS: dict[str, tuple[tuple[str, typer.Typer], ...]] = {
    "Datasets": (("alias", commands_aliases.alias_app),),
    "Access": (
        ("user", commands_users.user_app),
        ("role", commands_access.role_app),
        ("policy", commands_access.policy_app),
        ("token", commands_users.token_app),
        ("acl", commands_acl.acl_app),
    ),
    "Remotes": (("remote", commands_remote.remote_app),),
    "Store": (("quota", commands_store.quota_app),),
}
for panel, commands in _COMMANDS.items():
    for name, function in commands:
        app.command(name, rich_help_panel=panel)(function)
for panel, groups in _GROUPS.items():
    for name, group in groups:
        app.add_typer(group, name=name, rich_help_panel=panel)

_audit = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]})
_audit.callback(invoke_without_command=True)(commands_history.audit)  # `ws audit [filters]`
_audit.command("verify")(commands_history.audit_verify)
_audit.command("reset-checkpoints")(commands_audit.audit_reset_checkpoints)
app.add_typer(_audit, name="audit", rich_help_panel="History")


def _show_version(value: bool) -> None:
    if value:
        say(f"ws {__version__}")
        raise typer.Exit()


@app.callback()
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


_UNUSED_OPTIONAL_MODULES = ("httpx._main", "trio")
"""Optional imports a client command never uses: httpx loads its own CLI (click, rich,
pygments) and httpcore probes for trio when they are installed. Both handle their absence
(ImportError); marking them absent spares ~100 ms of every command. Only in ``main``, and
not for `serve`, so that no other process is affected."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run `ws`; a WorkspaceError becomes `error:`/`hint:` lines and its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "serve" not in args:
        for name in _UNUSED_OPTIONAL_MODULES:
            sys.modules.setdefault(name, None)  # type: ignore[arg-type]
    try:
        typer.main.get_command(app).main(args=args, prog_name="ws")
    except WorkspaceError as exc:
        print_error(exc, as_json=_wants_json(args))
        sys.exit(exc.exit_code)
    except OSError as exc:  # a file-system error no command turned into ours: still no traceback
        error = os_error(exc)
        print_error(error, as_json=_wants_json(args))
        sys.exit(error.exit_code)


def os_error(exc: OSError) -> WorkspaceError:
    """An OSError as one of our errors: exit 4 for a permission problem, else 3 or 2."""
    name = exc.filename if isinstance(exc.filename, str) else ""
    return unresolvable(name or "a path", exc)


def _wants_json(args: Sequence[str]) -> bool:
    """Whether --json was given (before any `--`), so errors come out as JSON too."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


if __name__ == "__main__":
    main()

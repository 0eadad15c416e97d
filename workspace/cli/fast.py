"""The light path of the hottest commands: `ws --version` and `ws status`, without Typer.

Typer (with click) takes longer to import and to read the commands' signatures
than the whole of a no-op `ws status` should take. For the plain forms of
these two commands, the arguments are read here:

    ws [--socket PATH | --server URL]... --version
    ws [--socket PATH | --server URL]... status [PATH] [--json]

and the same functions the Typer command calls are run. Anything else
(``--help``, a repeated or unknown option, a value that looks like an
option) is left to Typer, so its messages and exit codes stay the only ones.
"""

from __future__ import annotations

from collections.abc import Sequence

_GLOBAL_OPTIONS = ("--socket", "--server")


def run(args: Sequence[str]) -> bool:
    """Run ``args`` if they are a plain `--version` or `status`; False if Typer must."""
    parsed = _root_options(args)
    if parsed is None:
        return False
    options, rest = parsed
    if rest == ["--version"]:
        import sys

        from workspace import __version__

        sys.stdout.write(f"ws {__version__}\n")
        return True
    status_args = _status_args(rest)
    if status_args is None:
        return False
    from pathlib import Path

    from workspace.cli.status import run_status

    socket = options.get("--socket")
    run_status(socket=Path(socket) if socket else None, server=options.get("--server"),
               path=status_args[0], as_json=status_args[1])
    return True


def _root_options(args: Sequence[str]) -> tuple[dict[str, str], list[str]] | None:
    """(the root's options, the rest), or None for anything unusual in them."""
    options: dict[str, str] = {}
    index = 0
    while index < len(args) and args[index].partition("=")[0] in _GLOBAL_OPTIONS:
        name, eq, value = args[index].partition("=")
        if not eq:
            index += 1
            value = args[index] if index < len(args) else ""
        if name in options or not value or value.startswith("-"):
            return None
        options[name] = value
        index += 1
    return options, list(args[index:])


def _status_args(rest: list[str]) -> tuple[str | None, bool] | None:
    """(PATH, --json) of `status [PATH] [--json]`, or None if it is not that."""
    if not rest or rest[0] != "status":
        return None
    paths: list[str] = []
    as_json = False
    words = iter(rest[1:])
    for word in words:
        if word == "--":
            paths.extend(words)
        elif word == "--json":
            as_json = True
        elif word.startswith("-") and word != "-":
            return None
        else:
            paths.append(word)
    return (paths[0] if paths else None, as_json) if len(paths) <= 1 else None

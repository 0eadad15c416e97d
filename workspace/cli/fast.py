"""The light path of the hottest commands: `ws --version`, `ws status`, `ws blame`.

Typer (with click and pydantic) takes longer to import and to read the
commands' signatures than the whole of a no-op `ws status` should take, and a
sixth of the second a blame of 100,000 files may take. For the plain forms of
these commands, the arguments are read here:

    ws [--socket PATH | --server URL]... --version
    ws [--socket PATH | --server URL]... status [PATH] [--json]
    ws [--socket PATH | --server URL]... blame REF [PREFIX] [--json]

and the same functions the Typer command calls are run. Anything else
(``--help``, a repeated or unknown option, a value that looks like an
option) is left to Typer, so its messages and exit codes stay the only ones.
"""

from __future__ import annotations

from collections.abc import Sequence

_GLOBAL_OPTIONS = ("--socket", "--server")
_POSITIONALS = {"status": (0, 1), "blame": (1, 2)}
"""The light path's commands and how many positional arguments each takes (least, most)."""


def run(args: Sequence[str]) -> bool:
    """Run ``args`` if they are a plain form above; False if Typer must."""
    parsed = _root_options(args)
    if parsed is None:
        return False
    options, rest = parsed
    if rest == ["--version"]:
        import sys

        from workspace import __version__

        sys.stdout.write(f"ws {__version__}\n")
        return True
    command = rest[0] if rest else ""
    counts = _POSITIONALS.get(command)
    plain = None if counts is None else _plain_args(rest[1:], *counts)
    if plain is None:
        return False
    from pathlib import Path

    socket = Path(options["--socket"]) if options.get("--socket") else None
    server, (positionals, as_json) = options.get("--server"), plain
    if command == "status":
        from workspace.cli.status import run_status

        run_status(socket=socket, server=server, path=_nth(positionals, 0), as_json=as_json)
    else:
        from workspace.cli.blame import run_blame

        run_blame(socket=socket, server=server, target=positionals[0],
                  prefix=_nth(positionals, 1), as_json=as_json)
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


def _plain_args(words: list[str], least: int, most: int) -> tuple[list[str], bool] | None:
    """(positionals, --json) of ``[POSITIONAL]... [--json]`` with ``least`` to ``most``
    positionals, or None if the words are anything else."""
    positionals: list[str] = []
    as_json = False
    rest = iter(words)
    for word in rest:
        if word == "--":
            positionals.extend(rest)
        elif word == "--json":
            as_json = True
        elif word.startswith("-") and word != "-":
            return None
        else:
            positionals.append(word)
    return (positionals, as_json) if least <= len(positionals) <= most else None


def _nth(words: list[str], index: int) -> str | None:
    return words[index] if index < len(words) else None

"""The light path of the hottest commands: `ws --version`, `status`, `blame`, `add`,
`commit` and `get`.

Typer (with click and pydantic) takes longer to import and to read the
commands' signatures than the whole of a no-op `ws status` should take, a
sixth of the second a blame of 100,000 files may take, and a third of a
checkout of 10,000 small files. For the plain forms of these commands, the
arguments are read here:

    ws [--socket PATH | --server URL]... --version
    ws [--socket PATH | --server URL]... status [PATH] [--json]
    ws [--socket PATH | --server URL]... blame REF [PREFIX] [--json]
    ws [--socket PATH | --server URL]... add PATH -d DATASET -m MSG [--skip-symlinks] [--json]
    ws [--socket PATH | --server URL]... commit PATH -m MSG [--skip-symlinks] [--json]
    ws [--socket PATH | --server URL]... get REF PATH [--force] [--json]

(options in any order, long ones also as ``--name=VALUE``), and the same
functions the Typer command calls are run. Anything else (``--help``, a
repeated, unknown or missing option, a value that looks like an option) is
left to Typer, so its messages and exit codes stay the only ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

_GLOBAL_OPTIONS = ("--socket", "--server")


class _Form(NamedTuple):
    """A command's plain form: positionals (least, most), flags, and required valued options
    (the name the command's function takes, and its spellings)."""

    positionals: tuple[int, int]
    flags: dict[str, str]
    valued: dict[str, tuple[str, ...]]


_FORMS = {
    "status": _Form((0, 1), {}, {}),
    "blame": _Form((1, 2), {}, {}),
    "add": _Form((1, 1), {"--skip-symlinks": "skip_symlinks"},
                 {"dataset": ("-d", "--dataset"), "message": ("-m", "--message")}),
    "commit": _Form((1, 1), {"--skip-symlinks": "skip_symlinks"},
                    {"message": ("-m", "--message")}),
    "get": _Form((2, 2), {"--force": "force"}, {}),
}


class _Plain(NamedTuple):
    positionals: list[str]
    options: dict[str, Any]


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
    form = _FORMS.get(command)
    plain = None if form is None else _plain_args(rest[1:], form)
    if plain is None:
        return False
    from pathlib import Path

    where = {"socket": Path(options["--socket"]) if options.get("--socket") else None,
             "server": options.get("--server")}
    _COMMANDS[command](where, plain)
    return True


def _status(where: dict[str, Any], plain: _Plain) -> None:
    from workspace.cli.status import run_status

    run_status(**where, path=_nth(plain.positionals, 0), **plain.options)


def _blame(where: dict[str, Any], plain: _Plain) -> None:
    from workspace.cli.blame import run_blame

    run_blame(**where, target=plain.positionals[0], prefix=_nth(plain.positionals, 1),
              **plain.options)


def _add(where: dict[str, Any], plain: _Plain) -> None:
    from workspace.cli.writes import run_add

    run_add(**where, path=plain.positionals[0], **plain.options)


def _commit(where: dict[str, Any], plain: _Plain) -> None:
    from workspace.cli.writes import run_commit

    run_commit(**where, path=plain.positionals[0], **plain.options)


def _get(where: dict[str, Any], plain: _Plain) -> None:
    from workspace.cli.writes import run_get

    run_get(**where, ref=plain.positionals[0], path=plain.positionals[1], **plain.options)


_COMMANDS: dict[str, Callable[[dict[str, Any], _Plain], None]] = {
    "status": _status, "blame": _blame, "add": _add, "commit": _commit, "get": _get}


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


def _plain_args(words: list[str], form: _Form) -> _Plain | None:
    """The positionals and options of ``words`` in ``form``, or None if they are anything
    else (Typer then reads them, and says what is wrong)."""
    positionals: list[str] = []
    options: dict[str, Any] = {"as_json": False, **{key: False for key in form.flags.values()}}
    spellings = {spelling: key for key, names in form.valued.items() for spelling in names}
    rest = iter(words)
    for word in rest:
        name, eq, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if word == "--":
            positionals.extend(rest)
        elif word == "--json" or word in form.flags:
            options[form.flags.get(word, "as_json")] = True
        elif name in spellings and spellings[name] not in options:
            value = value if eq else next(rest, "")
            if not value or value.startswith("-"):
                return None
            options[spellings[name]] = value
        elif word.startswith("-") and word != "-":
            return None
        else:
            positionals.append(word)
    least, most = form.positionals
    complete = all(key in options for key in form.valued)
    return _Plain(positionals, options) if complete and least <= len(positionals) <= most \
        else None


def _nth(words: list[str], index: int) -> str | None:
    return words[index] if index < len(words) else None

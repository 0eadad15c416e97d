"""`ws blame`: the last change of every file, or (`--lines`) the origin of every line.

File blame is one indexed query however long the history is; line blame is
computed from the file's versions with libgit2's diff and cached per version
by the daemon.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from workspace.cli.blame import run_blame
from workspace.cli.commands_datasets import PrefixOpt
from workspace.cli.output import print_json, say_lines
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import short_time
from workspace.client.daemon import Json
from workspace.client.paths import daemon_path
from workspace.errors import InvalidInput
from workspace.refs import parse_ref


def blame(
    ctx: typer.Context,
    target: Annotated[str, typer.Argument(
        metavar="TARGET", help="DATASET[@N|@TAG|@ALIAS]; with --lines, a file in your workspace "
        "(or a reference followed by the file's path in the dataset).", show_default=False)],
    under: Annotated[str | None, typer.Argument(
        metavar="PREFIX", help="Only files under this path in the dataset (e.g. labels/); "
        "with --lines and a reference: the file.", show_default=False)] = None,
    prefix: PrefixOpt = None,
    lines: Annotated[bool, typer.Option(
        "--lines", help="Blame each line of one text file (CSV, TSV, JSONL, TXT...).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Who last changed each file (or, with --lines, each line): version, author, date, why."""
    if under is not None and prefix is not None:
        raise InvalidInput("give the prefix once: as an argument or with --prefix")
    if lines:
        _blame_lines(ctx, target, under or prefix, as_json)
        return
    options = state(ctx)
    run_blame(socket=options.socket_option, server=options.server_option, target=target,
              prefix=under or prefix, as_json=as_json)


def _blame_lines(ctx: typer.Context, target: str, file: str | None, as_json: bool) -> None:
    if os.path.lexists(target) and file is None:
        query: Json = {"path": daemon_path(target)}
    elif file is not None:
        query = {"ref": str(parse_ref(target)), "file": file}
    else:
        raise InvalidInput(f"{target} is not a file here",
                           hint="give a file in your workspace, or DATASET[@N] and the file's "
                           "path in it: `ws blame --lines vision/cats@3 labels.csv`")
    with state(ctx).client() as client:
        answer = client.get("/v1/blame/lines", query)
    if as_json:
        print_json(answer)
        return
    _print_lines(answer)


def _print_lines(answer: Json) -> None:
    versions = answer.get("versions") or {}
    lines = answer.get("lines") or []
    width = len(str(len(lines))) or 1
    out: list[str] = []
    for number, (version, text) in enumerate(zip(answer.get("line_versions") or [], lines,
                                                 strict=False), start=1):
        info = versions.get(str(version)) or {}
        who = str(info.get("author", "?"))[:12]
        out.append(f"v{version:<4} {who:<12} {short_time(info.get('created_at')):<16} "
                   f"{number:>{width}}| {text}")
    say_lines(out)

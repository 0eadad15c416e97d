"""Commands that put data into tracked paths: add, commit, get.

The work is in ``writes.py``, which the light path (``fast.py``) runs too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.state import JsonFlag, state
from workspace.cli.writes import run_add, run_commit, run_get

PathArg = Annotated[str, typer.Argument(metavar="PATH", help="The file or directory, e.g. data/.")]
MessageOpt = Annotated[
    str,
    typer.Option(
        "--message", "-m", metavar="MSG", help="Why this version exists (shown by log and blame)."
    ),
]
SkipSymlinks = Annotated[
    bool,
    typer.Option("--skip-symlinks", help="Leave symlinks under PATH out instead of refusing them."),
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Overwrite local changes in the tracked path (they are lost)."),
]


def add(
    ctx: typer.Context,
    path: PathArg,
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset", "-d", metavar="NAME", help="Name of the new dataset, e.g. vision/cats."
        ),
    ],
    message: MessageOpt,
    skip_symlinks: SkipSymlinks = False,
    as_json: JsonFlag = False,
) -> None:
    """Track PATH as a new version of DATASET: store it once, hardlink it back, write PATH.ws."""
    where = state(ctx)
    run_add(socket=where.socket_option, server=where.server_option, path=path, dataset=dataset,
            message=message, skip_symlinks=skip_symlinks, as_json=as_json)


def commit(
    ctx: typer.Context,
    path: PathArg,
    message: MessageOpt,
    skip_symlinks: SkipSymlinks = False,
    as_json: JsonFlag = False,
) -> None:
    """Record the changes in tracked PATH as a new version of its dataset.

    The version in PATH.ws is sent as the base, so a commit made elsewhere in
    the meantime is reported as a conflict instead of being overwritten.
    """
    where = state(ctx)
    run_commit(socket=where.socket_option, server=where.server_option, path=path,
               message=message, skip_symlinks=skip_symlinks, as_json=as_json)


def get(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(
        metavar="REF", help="DATASET, DATASET@N, DATASET@TAG or DATASET@ALIAS.")],
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="Where to put it (becomes a tracked path).")
    ],
    force: ForceOpt = False,
    as_json: JsonFlag = False,
) -> None:
    """Bring a dataset version into the workspace at PATH and start tracking it there."""
    where = state(ctx)
    run_get(socket=where.socket_option, server=where.server_option, ref=ref, path=path,
            force=force, as_json=as_json)

"""Commands that put data into tracked paths: add, commit, get.

Each is one streaming call to the daemon; when it succeeds, the CLI writes the
pointer file and the `.gitignore` line itself (they belong to the user's git
checkout) and prints a one-line summary.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.gitinfo import provenance
from workspace.cli.output import print_json, say, summary_line
from workspace.cli.progress import StreamProgress
from workspace.cli.state import JsonFlag, state
from workspace.client.daemon import DaemonClient, Json
from workspace.client.paths import daemon_path
from workspace.client.pointers import read_beside, record
from workspace.refs import parse_ref, validate_name

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
    body: Json = {
        "path": daemon_path(path),
        "dataset": validate_name(dataset),
        "message": message,
        "skip_symlinks": skip_symlinks,
        "git": provenance(daemon_path(path)),
    }
    with state(ctx).client() as client:
        result = run_write(client, "/v1/add", body, label=f"adding {path}", as_json=as_json)
    report(result, as_json)


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
    target = daemon_path(path)
    pointer = read_beside(target)
    body: Json = {
        "path": target,
        "message": message,
        "skip_symlinks": skip_symlinks,
        "base_version": pointer.version if pointer else None,
        "git": provenance(target),
    }
    with state(ctx).client() as client:
        result = run_write(client, "/v1/commit", body, label=f"committing {path}", as_json=as_json)
    if result.get("unchanged") and not as_json:
        version = result.get("pointer") or {}
        name = path.rstrip("/") or path
        say(f"nothing to commit in {name} ({version.get('dataset')}@{version.get('version')})")
        return
    report(result, as_json)


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
    body: Json = {"ref": str(parse_ref(ref)), "path": daemon_path(path), "force": force}
    with state(ctx).client() as client:
        result = run_write(client, "/v1/get", body, label=f"getting {ref}", as_json=as_json)
    report(result, as_json)


def run_write(client: DaemonClient, route: str, body: Json, *, label: str, as_json: bool,
              write_pointer: bool = True) -> Json:
    """One streaming operation, then the pointer and `.gitignore` it implies.

    ``write_pointer=False`` (checkout --rev) leaves git's working tree alone.
    """
    with StreamProgress.for_terminal(label, as_json=as_json) as bar:
        result = client.stream(route, body, bar)
    if write_pointer:
        record(result)
    return result


def report(result: Json, as_json: bool) -> None:
    if as_json:
        print_json(result)
    else:
        say(summary_line(result))

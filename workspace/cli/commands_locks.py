"""`ws lock` and `ws locks`: file locks the daemon enforces (Git LFS style, but not advisory).

While you hold a lock on a file, a commit by anyone else that changes it is
refused (exit 5, naming you and since when). Release it when your change is
committed; an admin can break it (`--release --force`), and you are told so
with your next command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.output import print_json, say, table, warn
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import short_time
from workspace.client.daemon import DaemonClient, Json
from workspace.client.paths import daemon_path
from workspace.errors import InvalidInput, PermissionDenied
from workspace.refs import validate_name


def lock(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        metavar="PATH...", help="Files (or directories: every file below) in your workspace; "
        "with --dataset, paths in the dataset.")],
    dataset: Annotated[str | None, typer.Option(
        "--dataset", "-d", metavar="NAME",
        help="PATHs are paths in this dataset, not in your workspace.")] = None,
    release: Annotated[bool, typer.Option(
        "--release", help="Release your locks on PATHs instead of taking them.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="With --release: break locks others hold (needs admin on the dataset; "
        "they are told).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Lock files so that only you may commit changes to them (or release them: --release)."""
    if force and not release:
        raise InvalidInput("--force goes with --release (breaking someone else's lock)")
    body: Json = _target(paths, dataset)
    with state(ctx).client() as client:
        if release:
            answer = client.post("/v1/locks/release", {**body, "force": force})
        else:
            answer = client.post("/v1/locks", body)
    if as_json:
        print_json(answer)
    elif release:
        _print_released(answer)
    else:
        print_locked(answer)


def locks(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Argument(
        metavar="DATASET", help="Only this dataset's locks.", show_default=False)] = None,
    as_json: JsonFlag = False,
) -> None:
    """List locks: who holds which file of which dataset, since when."""
    query = {"dataset": validate_name(dataset) if dataset else None}
    with state(ctx).client() as client:
        answer = client.get("/v1/locks", query)
    if as_json:
        print_json(answer)
        return
    rows = [[str(lock.get("dataset")), str(lock.get("path")), str(lock.get("holder")),
             short_time(lock.get("since"))] for lock in answer.get("locks") or []]
    if not rows:
        say("no locks" + (f" on {dataset}" if dataset else ""))
        return
    table(("Dataset", "Path", "Holder", "Since"), rows)


def lock_for_unlock(client: DaemonClient, targets: list[str]) -> Json | None:
    """`ws unlock` with the daemon's `lock_on_unlock`: lock first, so that a file someone
    else holds is not made editable (Conflict, nothing changed). Without `write` there is
    no lock to take: say so and go on. The lock answer, or None when none was asked for."""
    if not client.get("/v1/health").get("lock_on_unlock"):
        return None
    try:
        return client.post("/v1/locks", {"paths": targets})
    except PermissionDenied as exc:
        warn(f"warning: not locked ({exc.message}): you may edit, not commit")
        return None


def print_locked(answer: Json) -> None:
    say(f"locked {_files(int(answer.get('taken') or 0))}"
          + (f" ({answer['already_held']} already yours)" if answer.get("already_held") else ""))


def _target(paths: list[str], dataset: str | None) -> Json:
    if dataset is not None:
        return {"dataset": validate_name(dataset), "paths": paths}
    return {"paths": [daemon_path(path) for path in paths]}


def _print_released(answer: Json) -> None:
    released, broken = answer.get("released") or [], answer.get("broken") or []
    say(f"released {_files(len(released))}")
    for lock in broken:
        say(f"broke {lock.get('holder')}'s lock on {lock.get('path')} in {lock.get('dataset')} "
              f"(held since {short_time(lock.get('since'))}); they will be told")


def _files(number: int) -> str:
    return f"{number:,} file" if number == 1 else f"{number:,} files"

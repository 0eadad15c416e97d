"""Commands that read or name dataset versions: datasets, ls, diff, tag."""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.output import count, human_size, print_json, say, say_lines, subject, table
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import short_time
from workspace.client.daemon import Json
from workspace.errors import InvalidInput
from workspace.refs import parse_ref, validate_tag

RefArg = Annotated[
    str,
    typer.Argument(metavar="REF", help="DATASET (latest), DATASET@N, @TAG or @ALIAS."),
]
PrefixOpt = Annotated[
    str | None,
    typer.Option("--prefix", metavar="P", help="Only files under this path, e.g. train/."),
]


def datasets(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the datasets you may read, with their latest version."""
    with state(ctx).client() as client:
        answer = client.get("/v1/datasets")
    if as_json:
        print_json(answer)
        return
    rows = [_dataset_row(entry) for entry in answer.get("datasets") or []]
    if not rows:
        _print_none(answer)
        return
    table(("Dataset", "Latest", "Files", "Size", "Author", "Date", "Message"), rows)


def ls(
    ctx: typer.Context, ref: RefArg, prefix: PrefixOpt = None, as_json: JsonFlag = False
) -> None:
    """List the files of a dataset version, one `SIZE  PATH` line each."""
    with state(ctx).client() as client:
        answer = client.get("/v1/ls", {"ref": str(parse_ref(ref)), "prefix": prefix})
    if as_json:
        print_json(answer)
        return
    say_lines(f"{human_size(entry.get('size')):>10}  {entry.get('path')}"
              for entry in answer.get("files") or [])


def diff(
    ctx: typer.Context,
    a: Annotated[
        str | None,
        typer.Argument(metavar="A", help="The older reference, e.g. vision/cats@1."),
    ] = None,
    b: Annotated[
        str | None,
        typer.Argument(metavar="B", help="The newer reference, e.g. vision/cats@2."),
    ] = None,
    rev: Annotated[
        str | None,
        typer.Option("--rev", metavar="A..B",
                     help="Compare the data of two git revisions instead (e.g. v1.0..main)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the files added, modified and deleted between two versions (or git revisions)."""
    if rev is not None:
        if a is not None or b is not None:
            raise InvalidInput("give A and B, or --rev A..B, not both")
        from workspace.cli.commands_rev import diff_revisions

        diff_revisions(ctx, rev, as_json=as_json)
        return
    if a is None or b is None:
        raise InvalidInput("give two references A and B", hint="e.g. `ws diff vision/cats@1 "
                           "vision/cats@2`, or `ws diff --rev v1.0..main`")
    with state(ctx).client() as client:
        answer = client.get("/v1/diff", {"a": str(parse_ref(a)), "b": str(parse_ref(b))})
    if as_json:
        print_json(answer)
        return
    _print_diff(answer)


def tag(
    ctx: typer.Context,
    ref: RefArg,
    name: Annotated[
        str, typer.Argument(metavar="TAG", help="The tag, e.g. v1.0 (not a plain number).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Name a version, so that DATASET@TAG refers to it from now on."""
    body = {"ref": str(parse_ref(ref)), "tag": validate_tag(name)}
    with state(ctx).client() as client:
        answer = client.post("/v1/tags", body)
    if as_json:
        print_json(answer)
        return
    say(f"tagged {answer.get('dataset')}@{answer.get('version')} as {answer.get('tag')}")


def _dataset_row(entry: Json) -> list[str]:
    latest = entry.get("latest") or {}
    return [
        str(entry.get("name")),
        str(latest.get("number", "")),
        count(latest.get("files", "")),
        human_size(latest.get("bytes")),
        str(latest.get("author", "")),
        short_time(latest.get("created_at")),
        subject(latest.get("message")),
    ]


def _print_diff(answer: Json) -> None:
    added, modified, deleted = (answer.get(k) or [] for k in ("added", "modified", "deleted"))
    counts = f"{count(len(added))} added, {count(len(modified))} modified, "
    say(f"{_ref(answer.get('a'))} -> {_ref(answer.get('b'))}: "
        f"{counts}{count(len(deleted))} deleted")
    lines = [f"  added:    {e.get('path')} ({human_size(e.get('size'))})" for e in added]
    lines += [f"  modified: {e.get('path')} ({human_size(e.get('old_size'))} -> "
              f"{human_size(e.get('new_size'))})" for e in modified]
    lines += [f"  deleted:  {e.get('path')} ({human_size(e.get('size'))})" for e in deleted]
    say_lines(lines)


def _print_none(answer: Json) -> None:
    """No dataset to show: none exists, or none the caller may read (the daemon cannot say
    which without telling who may read what); either way, say whom to ask."""
    admins = [str(name) for name in answer.get("admins") or []]
    ask = f"an admin ({', '.join(admins)})" if admins else "an admin of this server"
    say("no datasets you may read")
    say(f"(to read existing ones, ask {ask} to grant you a role on them; with a writer "
        "role, `ws add PATH -d DATASET -m MESSAGE` creates one)")


def _ref(side: object) -> str:
    if not isinstance(side, dict):
        return str(side)
    return f"{side.get('dataset')}@{side.get('version')}"

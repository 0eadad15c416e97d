"""Remotes: `ws remote add|list|rm|status` (configuration is an admin's), `ws push`, `ws pull`.

Push and pull stream progress from the daemon like add and checkout do: a
bar on a terminal for long transfers, then one summary line.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workspace.cli.output import count, human_size, print_json, say, table
from workspace.cli.progress import StreamProgress
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import short_time
from workspace.client.daemon import Json
from workspace.refs import parse_ref, validate_name

remote_app = typer.Typer(
    help="Configure remotes (S3-compatible storage or file://) and compare them with this "
    "server.",
    no_args_is_help=True,
)
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The remote's name, e.g. backup.")]
RemoteOpt = Annotated[
    str | None,
    typer.Option("--remote", "-r", metavar="NAME", help="Which remote; default: the default one."),
]


@remote_app.command("add")
def remote_add(
    ctx: typer.Context,
    name: NameArg,
    url: Annotated[str, typer.Argument(
        metavar="URL", help="s3://BUCKET/PREFIX or file:///PATH (no credentials in it).")],
    default: Annotated[bool, typer.Option(
        "--default", help="Make it the default remote (the first remote always is).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Add a remote (admin). The daemon checks it can reach it before recording it."""
    with state(ctx).client() as client:
        answer = client.post("/v1/remotes", {"name": name, "url": url, "default": default})
    if as_json:
        print_json(answer)
        return
    added = answer.get("remote") or {}
    say(f"added remote {added.get('name')} -> {added.get('url')}"
          + (" (default)" if added.get("default") else ""))


@remote_app.command("list")
def remote_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the remotes; the default one is marked."""
    with state(ctx).client() as client:
        answer = client.get("/v1/remotes")
    if as_json:
        print_json(answer)
        return
    rows = [[str(r.get("name")), str(r.get("url")), "yes" if r.get("default") else "",
             short_time(r.get("created_at"))] for r in answer.get("remotes") or []]
    if not rows:
        say("no remotes yet (an admin adds one: `ws remote add NAME URL`)")
        return
    table(("Name", "URL", "Default", "Added"), rows)


@remote_app.command("rm")
def remote_rm(ctx: typer.Context, name: NameArg, as_json: JsonFlag = False) -> None:
    """Forget a remote (admin). Nothing on the remote itself is deleted."""
    with state(ctx).client() as client:
        answer = client.delete("/v1/remotes", {"name": name})
    if as_json:
        print_json(answer)
    else:
        say(f"removed remote {name} (its data was left in place)")


@remote_app.command("status")
def remote_status(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Argument(
        metavar="DATASET", help="Only this dataset; default: every dataset you may read.")
    ] = None,
    remote: RemoteOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Which versions and objects are only here, only on the remote, or in both."""
    params = {"remote": remote, "dataset": validate_name(dataset) if dataset else None}
    with state(ctx).client() as client:
        answer = client.get("/v1/remotes/status", params)
    if as_json:
        print_json(answer)
        return
    rows = [_status_row(entry) for entry in answer.get("datasets") or []]
    say(f"remote {answer.get('remote')} ({answer.get('url')})")
    if rows:
        table(("Dataset", "Both", "Only here", "Only remote", "Objects here only",
               "Objects remote only", "State"), rows)


def push(
    ctx: typer.Context,
    ref: Annotated[str | None, typer.Argument(
        metavar="DATASET[@REF]", help="What to push: the dataset's history up to REF "
        "(default: its latest version).")] = None,
    remote: RemoteOpt = None,
    all_datasets: Annotated[bool, typer.Option(
        "--all", help="Push every dataset you may write.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Upload the objects the remote lacks, then the versions and tags (writer)."""
    body: Json = {"ref": str(parse_ref(ref)) if ref else None, "all": all_datasets,
                  "remote": remote}
    with state(ctx).client() as client, StreamProgress.for_terminal(
            "pushing", as_json=as_json) as bar:
        result = client.stream("/v1/push", body, bar)
    if as_json:
        print_json(result)
        return
    for entry in result.get("datasets") or []:
        say(_push_line(entry, result))
    say(f"{count(result.get('objects'))} objects ({human_size(result.get('bytes'))}) sent to "
          f"{result.get('remote')} in {_seconds(result)}")


def pull(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(
        metavar="DATASET[@REF]", help="What to pull: the dataset's history up to REF "
        "(default: the remote's latest version).")],
    remote: RemoteOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """Bring a dataset's versions and objects from a remote (creating it here if needed)."""
    body: Json = {"ref": str(parse_ref(ref)), "remote": remote}
    with state(ctx).client() as client, StreamProgress.for_terminal(
            "pulling", as_json=as_json) as bar:
        result = client.stream("/v1/pull", body, bar)
    if as_json:
        print_json(result)
        return
    pulled = result.get("pulled") or []
    what = (f"versions {_span(pulled)}" if pulled else "nothing new")
    say(f"{result.get('dataset')}: {what} from {result.get('remote')}, "
          f"{count(result.get('objects'))} objects ({human_size(result.get('bytes'))}) "
          f"in {_seconds(result)}")


def _status_row(entry: Json) -> list[str]:
    versions: Any = entry.get("versions") or {}
    objects: Any = entry.get("objects") or {}
    state_text = "diverged" if entry.get("diverged") else (
        "in sync" if not versions.get("only_local") and not versions.get("only_remote")
        else "differs")
    return [str(entry.get("dataset")), _span(versions.get("both") or []),
            _span(versions.get("only_local") or []), _span(versions.get("only_remote") or []),
            count(objects.get("only_local", 0)), count(objects.get("only_remote", 0)),
            state_text]


def _push_line(entry: Json, result: Json) -> str:
    pushed = entry.get("pushed") or []
    what = f"versions {_span(pushed)} pushed" if pushed else "already on the remote"
    return f"{entry.get('dataset')}@{entry.get('upto')}: {what} to {result.get('remote')}"


def _span(numbers: list[Any]) -> str:
    if not numbers:
        return "-"
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ",".join(str(n) for n in numbers)


def _seconds(result: Json) -> str:
    seconds = result.get("seconds")
    return f"{seconds:.2f}s" if isinstance(seconds, int | float) else "?"

"""`ws alias ...`: names that move between versions (production, staging), with history.

A tag names one version forever; an alias is moved on purpose: every move is
kept with who, when and why, and `ws alias log --at WHEN` answers "which
version was production then". `DATASET@NAME` works wherever a reference does.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.output import print_json, say, subject, table
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import parse_since, short_time
from workspace.client.daemon import Json
from workspace.errors import InvalidInput
from workspace.refs import parse_ref, validate_alias, validate_name

alias_app = typer.Typer(
    help="Set, move, remove and list aliases (movable names such as production), "
    "and show their history.",
    no_args_is_help=True,
)

DatasetArg = Annotated[str, typer.Argument(metavar="DATASET", help="e.g. vision/cats.")]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The alias, e.g. production.")]
WhyOpt = Annotated[
    str, typer.Option("--message", "-m", metavar="WHY", help="Why (kept in the alias's log).")
]


@alias_app.command("set")
def set_alias(
    ctx: typer.Context,
    dataset: DatasetArg,
    name: NameArg,
    ref: Annotated[str, typer.Argument(
        metavar="REF", help="The version: N, a tag, another alias, or DATASET@... .")],
    message: WhyOpt,
    as_json: JsonFlag = False,
) -> None:
    """Point DATASET@NAME at a version (creating the alias, or moving it).

    Needs `maintain` on the dataset; a protected alias (production, by default)
    needs `promote` (role releaser, or admin).
    """
    body = {"dataset": validate_name(dataset), "name": validate_alias(name),
            "ref": _full_ref(dataset, ref), "message": message}
    with state(ctx).client() as client:
        answer = client.post("/v1/aliases", body)
    if as_json:
        print_json(answer)
        return
    target = f"{answer.get('dataset')}@{name}"
    if answer.get("unchanged"):
        say(f"{target} already names version {answer.get('version')}")
    elif answer.get("from_version") is None:
        say(f"{target} -> version {answer.get('version')} (new alias)")
    else:
        say(f"{target}: version {answer.get('from_version')} -> {answer.get('version')}")


@alias_app.command("rm")
def remove_alias(
    ctx: typer.Context, dataset: DatasetArg, name: NameArg, message: WhyOpt,
    as_json: JsonFlag = False,
) -> None:
    """Remove an alias (its log stays). Same permission as moving it."""
    body = {"dataset": validate_name(dataset), "name": validate_alias(name), "message": message}
    with state(ctx).client() as client:
        answer = client.post("/v1/aliases/remove", body)
    if as_json:
        print_json(answer)
        return
    say(f"removed {dataset}@{name} (was version {answer.get('from_version')})")


@alias_app.command("list")
def list_aliases(ctx: typer.Context, dataset: DatasetArg, as_json: JsonFlag = False) -> None:
    """The aliases of a dataset: where each points, who moved it last and when."""
    with state(ctx).client() as client:
        answer = client.get("/v1/aliases", {"dataset": validate_name(dataset)})
    if as_json:
        print_json(answer)
        return
    rows = [[str(a.get("name")) + (" (protected)" if a.get("protected") else ""),
             str(a.get("version")), str(a.get("moved_by")), short_time(a.get("moved_at"))]
            for a in answer.get("aliases") or []]
    if not rows:
        say(f"{dataset} has no aliases (`ws alias set {dataset} NAME REF -m WHY` sets one)")
        return
    table(("Alias", "Version", "Moved by", "Moved at"), rows, title=dataset)


@alias_app.command("log")
def alias_log(
    ctx: typer.Context, dataset: DatasetArg, name: NameArg,
    at: Annotated[str | None, typer.Option(
        "--at", metavar="WHEN",
        help="Also say which version NAME named then: an ISO date/time or 7d, 12h, ... ago.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every move of an alias, newest first: from, to, who, when, why."""
    query = {"dataset": validate_name(dataset), "name": validate_alias(name),
             "at": _moment(at)}
    with state(ctx).client() as client:
        answer = client.get("/v1/aliases/log", query)
    if as_json:
        print_json(answer)
        return
    if "at" in answer:
        say(_at_line(dataset, name, answer["at"]))
    rows = [[short_time(m.get("at")), _version(m.get("from_version")),
             _version(m.get("to_version")), str(m.get("user")), subject(m.get("message"))]
            for m in answer.get("moves") or []]
    table(("When", "From", "To", "By", "Why"), rows, title=f"{dataset}@{name}")


def _full_ref(dataset: str, ref: str) -> str:
    """`3`, `v1.0` or `staging` are versions of DATASET; `DATASET@X` must be of the same one."""
    parsed = parse_ref(ref if "@" in ref else f"{dataset}@{ref}")
    if parsed.dataset != dataset:
        raise InvalidInput(f"{ref} is not a version of {dataset}",
                           hint="an alias names a version of its own dataset")
    return str(parsed)


def _moment(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return parse_since(text)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("--since", "--at"), hint=exc.hint) from None


def _at_line(dataset: str, name: str, at: Json) -> str:
    when = short_time(at.get("time"))
    move = at.get("move")
    if at.get("version") is None or not isinstance(move, dict):
        return f"at {when}, {dataset}@{name} named no version"
    return (f"at {when}, {dataset}@{name} was version {at.get('version')} (moved there by "
            f"{move.get('user')} at {short_time(move.get('at'))}: {move.get('message')})")


def _version(value: object) -> str:
    return "-" if value is None else str(value)

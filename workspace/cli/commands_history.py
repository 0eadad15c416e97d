"""Commands that answer "who changed what, when, and why": log, blame, audit.

All three read indexes the daemon keeps as it records versions and audit
events, so they answer at once however long the history is.
"""

from __future__ import annotations

import os
import posixpath
from typing import Annotated, Any

import typer

from workspace.cli.output import count, human_size, plural, print_json, say, subject, table
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import parse_since, short_time
from workspace.client.daemon import Json
from workspace.client.paths import daemon_path
from workspace.errors import InvalidInput
from workspace.refs import parse_ref, validate_name

_DETAIL_WIDTH = 60


def log(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="A path in your workspace (if it exists) or a dataset reference.",
            show_default=False,
        ),
    ],
    as_path: Annotated[
        bool, typer.Option("--path", help="Treat TARGET as a path even if it does not exist.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show the versions of a dataset, or the changes to one path, newest first."""
    is_path = as_path or os.path.lexists(target)
    query = {"path": daemon_path(target)} if is_path else {"ref": str(parse_ref(target))}
    with state(ctx).client() as client:
        answer = client.get("/v1/log", query)
    if as_json:
        print_json(answer)
    elif "changes" in answer:  # a path inside a dataset; a tracked path is its whole dataset
        _print_path_log(answer)
    else:
        _print_dataset_log(answer)


def audit(
    ctx: typer.Context,
    dataset: Annotated[
        str | None, typer.Option("--dataset", metavar="D", help="Only events on this dataset.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", metavar="U", help="Only events by this user.")
    ] = None,
    action: Annotated[
        str | None,
        typer.Option(
            "--action", metavar="A", help="Only this action, e.g. dataset:version:commit."
        ),
    ] = None,
    path: Annotated[
        str | None,
        typer.Option("--path", metavar="PREFIX", help="Only events whose path starts with this."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="WHEN",
            help="Only events after this: 30m, 12h, 7d, 2w or an ISO date.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", metavar="WHEN", help="Only events before this (same forms as --since)."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, metavar="N", help="At most this many events.")
    ] = 100,
    as_json: JsonFlag = False,
) -> None:
    """Show the audit log (every change, denial and login), newest first;
    `ws audit verify` checks that nobody edited it."""
    if ctx.invoked_subcommand is not None:
        return
    query: dict[str, Any] = {
        "dataset": validate_name(dataset) if dataset else None,
        "user": user,
        "action": action,
        "path": path,
        "since": _moment("--since", since),
        "until": _moment("--until", until),
        "limit": limit,
    }
    with state(ctx).client() as client:
        answer = client.get("/v1/audit", query)
    if as_json:
        print_json(answer)
        return
    rows = [_audit_row(event) for event in answer.get("events") or []]
    table(("ID", "When", "Actor", "Action", "Dataset", "Path", "Detail"), rows)


def audit_verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check the whole audit hash chain and the checkpoints; exit 8 naming the first bad event."""
    with state(ctx).client() as client:
        answer = client.get("/v1/audit/verify")
    if as_json:
        print_json(answer)
        return
    head = answer.get("head") or {}
    last = answer.get("last_checkpoint")
    checkpoint = (f"event {last.get('sequence')} at {short_time(last.get('at'))}"
                  if isinstance(last, dict) else "none yet")
    say(f"audit log OK: {count(answer.get('events'))} events, head event "
          f"{head.get('id', '-')}; last checkpoint: {checkpoint} "
          f"({count(answer.get('checked_checkpoints'))} checked)")


def _moment(option: str, text: str | None) -> str | None:
    """A --since/--until value as ISO UTC, with the error naming the option given."""
    if not text:
        return None
    try:
        return parse_since(text)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("--since", option), hint=exc.hint) from None


def _print_dataset_log(answer: Json) -> None:
    rows = [
        [
            str(v.get("number")),
            short_time(v.get("created_at")),
            str(v.get("author")),
            count(v.get("files")),
            human_size(v.get("bytes")),
            ", ".join(v.get("tags") or []),
            ", ".join(v.get("aliases") or []),
            _state(v),
            subject(v.get("message")),
        ]
        for v in answer.get("versions") or []
    ]
    columns = ("Version", "Date", "Author", "Files", "Size", "Tags", "Aliases", "State",
               "Message")
    table(columns, rows, title=str(answer.get("dataset")))


def _state(version: Json) -> str:
    """`pruned by bob 2026-12-01 10:00`, `DAMAGED`, or empty for a version in use."""
    pruned = version.get("pruned")
    if isinstance(pruned, dict):
        return f"pruned by {pruned.get('by')} {short_time(pruned.get('at'))}"
    return "DAMAGED" if version.get("damaged") else ""


def _print_path_log(answer: Json) -> None:
    """A file's changes; or a directory's, each version with what it did to the files
    under it and what the directory then held."""
    directory = answer.get("kind") == "dir"
    rows = [
        [
            str(c.get("version")),
            (_dir_change(c) if directory else str(c.get("change")))
            + (" (pruned)" if c.get("pruned") else ""),
            short_time(c.get("created_at")),
            str(c.get("author")),
            f"{plural(c.get('files') or 0, 'file')}, {human_size(c.get('size'))}"
            if directory else "" if c.get("size") is None else human_size(c.get("size")),
            subject(c.get("message")),
        ]
        for c in answer.get("changes") or []
    ]
    title = f"{answer.get('path')}{'/' if directory else ''} in {answer.get('dataset')}"
    table(("Version", "Change", "Date", "Author", "Holds" if directory else "Size", "Message"),
          rows, title=title)


def _dir_change(change: Json) -> str:
    """`modified (2 added, 1 modified)`: the directory's change and the files' counts."""
    counts = [f"{count(change[kind])} {kind}" for kind in ("added", "modified", "deleted")
              if change.get(kind)]
    return f"{change.get('change')} ({', '.join(counts)})" if counts else str(change.get("change"))


def _audit_row(event: Json) -> list[str]:
    dataset, version = event.get("dataset"), event.get("version")
    target = "" if not dataset else f"{dataset}@{version}" if version else str(dataset)
    places = [str(part) for part in (event.get("workspace"), event.get("path")) if part]
    # As recorded (absolute workspace, path in it): the reader's own directory is irrelevant.
    return [
        str(event.get("id")),
        short_time(event.get("at")),
        str(event.get("actor")),
        str(event.get("action")),
        target,
        posixpath.join(*places) if places else "",
        _detail(event.get("detail")),
    ]


def _detail(detail: object) -> str:
    """The detail's plain fields, briefly: lists and nested objects are left to --json."""
    if not isinstance(detail, dict):
        return "" if detail is None else str(detail)
    plain = [f"{key}={value}" for key, value in detail.items() if _is_plain(value)]
    text = ", ".join(plain)
    return text if len(text) <= _DETAIL_WIDTH else text[: _DETAIL_WIDTH - 1] + "…"


def _is_plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool) and len(str(value)) <= _DETAIL_WIDTH

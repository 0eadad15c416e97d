"""`ws blame REF [PREFIX]`: the file blame, for the Typer command and the light path.

Kept free of Typer (``fast.py`` runs the plain form without it): a blame of
100,000 files must fit in a second end to end, and Typer with its pydantic
costs a sixth of that before anything is asked.
"""

from __future__ import annotations

from pathlib import Path

from workspace.cli.output import keyed_table, print_json_columns, subject
from workspace.cli.times import short_time
from workspace.client.connect import connect
from workspace.client.daemon import Json
from workspace.refs import parse_ref


def run_blame(*, socket: Path | None, server: str | None, target: str, prefix: str | None,
              as_json: bool) -> None:
    """Who last changed each file of ``target`` (under ``prefix``): a table, or the JSON."""
    query: Json = {"ref": str(parse_ref(target)), "prefix": prefix}
    if not as_json:
        query["oids"] = False  # the table does not show them: half the answer, unsent
    with connect(socket=socket, server=server) as client:
        answer = client.get("/v1/blame", query)
    if as_json:
        print_json_columns(answer)
    else:
        _print_files(answer)


def _print_files(answer: Json) -> None:
    """One row per file: its path, then the version that last changed it, described once
    per version (the answer's ``versions`` table) however many files it changed."""
    described = {int(number): _described(int(number), info)
                 for number, info in (answer.get("versions") or {}).items()}
    keys = answer.get("path_versions") or []
    for unknown in set(keys) - described.keys():  # a version the table lacks: say so, go on
        described[unknown] = (str(unknown), "?", "", "", "")
    title = f"{answer.get('dataset')}@{answer.get('version')}"
    if answer.get("aliases"):
        title += f" ({', '.join(answer['aliases'])})"
    keyed_table(("Path", "Version", "Author", "Date", "Code", "Message"),
                [str(path) for path in answer.get("paths") or []], keys,
                described, title=title)


def _described(number: int, info: Json) -> tuple[str, ...]:
    return (f"{number}{' (pruned)' if info.get('pruned') else ''}", str(info.get("author")),
            short_time(info.get("created_at")), _code(info.get("git_commit")),
            subject(info.get("message")))


def _code(commit: object) -> str:
    return str(commit)[:10] if isinstance(commit, str) else ""

"""Who may do what: `ws role ...` (grant roles on dataset patterns) and `ws policy ...`.

The daemon holds the rules and decides; these commands change and show
them. Roles inherit (reader < writer < maintainer < admin), a deny rule wins
over any allow, and a subject is a user or ``group:NAME`` (a Unix group).
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.output import print_json, say, table
from workspace.cli.state import JsonFlag, state
from workspace.client.daemon import Json

role_app = typer.Typer(
    help="Grant, revoke and list roles (reader, writer, maintainer, admin) on dataset patterns.",
    no_args_is_help=True,
)
policy_app = typer.Typer(
    help="Show the access rules, and ask whether someone may do something.",
    no_args_is_help=True,
)

DENIED_EXIT = 4
"""`ws policy check --exit-code` on a denial: the exit code of PermissionDenied."""
_RULE_FIELDS = ("kind", "subject", "role", "pattern", "resource", "action", "effect", "source")

SubjectArg = Annotated[
    str, typer.Argument(metavar="SUBJECT", help="A user name, or group:NAME for a Unix group.")
]
RoleArg = Annotated[
    str, typer.Argument(metavar="ROLE", help="reader, writer, maintainer or admin.")
]
PatternArg = Annotated[
    str,
    typer.Argument(
        metavar="PATTERN", help="Dataset names it covers: 'vision/*', 'vision/cats' or '*'."
    ),
]


@role_app.command("grant")
def grant(
    ctx: typer.Context,
    subject: SubjectArg,
    role: RoleArg,
    pattern: PatternArg,
    as_json: JsonFlag = False,
) -> None:
    """Give SUBJECT a ROLE on the datasets matching PATTERN.

    You may only grant a role you hold there. Quote the pattern, so that the shell
    leaves it alone:

    ws role grant alice writer 'vision/*'

    ws role grant group:ml-team reader '*'
    """
    answer = _change(ctx, "grant", subject, role, pattern)
    if as_json:
        print_json(answer)
    elif answer.get("added") is False:
        say(f"{subject} already holds {role} on '{pattern}'")
    else:
        say(f"granted {role} on '{pattern}' to {subject}")


@role_app.command("revoke")
def revoke(
    ctx: typer.Context,
    subject: SubjectArg,
    role: RoleArg,
    pattern: PatternArg,
    as_json: JsonFlag = False,
) -> None:
    """Take back a ROLE on PATTERN given with `ws role grant` (the same three words).

    ws role revoke alice writer 'vision/*'
    """
    answer = _change(ctx, "revoke", subject, role, pattern)
    if as_json:
        print_json(answer)
    else:
        say(f"revoked {role} on '{pattern}' from {subject}")


@role_app.command("list")
def role_list(
    ctx: typer.Context,
    subject: Annotated[
        str | None,
        typer.Argument(metavar="SUBJECT", help="Only this user or group:NAME; default: all."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List who holds which role on which dataset pattern."""
    with state(ctx).client() as client:
        answer = client.get("/v1/roles", {"subject": subject})
    if as_json:
        print_json(answer)
        return
    assignments = [a for a in answer.get("assignments") or [] if isinstance(a, dict)]
    if not assignments:
        say("no roles granted" + (f" to {subject}" if subject else ""))
        return
    _rules_table(assignments)


@policy_app.command("list")
def policy_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List every rule: role assignments (g) and permissions (p), with where each came from."""
    with state(ctx).client() as client:
        answer = client.get("/v1/policy")
    if as_json:
        print_json(answer)
        return
    rules = [rule for rule in answer.get("rules") or [] if isinstance(rule, dict)]
    if not rules:
        say("no rules: every request is denied")
        return
    _rules_table(rules)


@policy_app.command("check")
def check(
    ctx: typer.Context,
    subject: SubjectArg,
    resource: Annotated[
        str, typer.Argument(metavar="RESOURCE", help="A dataset name, e.g. vision/cats.")
    ],
    action: Annotated[
        str, typer.Argument(metavar="ACTION", help="What SUBJECT would do, e.g. read or write.")
    ],
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code", help=f"Exit {DENIED_EXIT} when denied (default: 0 either way)."
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Ask whether SUBJECT may, on RESOURCE, do ACTION (in that order), and which rule decides.

    Prints `allowed` or `denied` (saying so when SUBJECT is no user or group the
    daemon knows), then the deciding rule:

    ws policy check bob vision/cats write
    """
    query = {"subject": subject, "resource": resource, "action": action}
    with state(ctx).client() as client:
        answer = client.get("/v1/policy/check", query)
    allowed = answer.get("allowed") is True
    if as_json:
        print_json(answer)
    else:
        _print_decision(answer, allowed)
    if exit_code and not allowed:
        raise typer.Exit(DENIED_EXIT)


def _print_decision(answer: Json, allowed: bool) -> None:
    subject = answer.get("subject")
    if answer.get("known") is False and str(subject).startswith("group:"):
        say(f"denied: there is no Unix group {str(subject)[6:]} on the daemon's machine")
    elif answer.get("known") is False:
        say(f"denied: {subject} is not a workspace user (`ws user list` shows them; "
            f"`ws user add {subject}` adds one)")
    else:
        say("allowed" if allowed else "denied")
    rule = answer.get("rule")
    say(f"rule: {rule}" if rule else "rule: none matches (denied by default)")


def rule_columns(rules: list[Json]) -> list[str]:
    """The fields the rules have: the usual ones in a fixed order, then any others."""
    present = {key for rule in rules for key in rule}
    others = sorted(present - set(_RULE_FIELDS))
    return [name for name in _RULE_FIELDS if name in present] + others


def _rules_table(rules: list[Json]) -> None:
    columns = rule_columns(rules)
    rows = [["" if r.get(name) is None else str(r.get(name)) for name in columns] for r in rules]
    table([name.capitalize() for name in columns], rows)


def _change(ctx: typer.Context, verb: str, subject: str, role: str, pattern: str) -> Json:
    body = {"subject": subject, "role": role, "pattern": pattern}
    with state(ctx).client() as client:
        return client.post(f"/v1/roles/{verb}", body)

"""`ws acl status`: how far the store's object ACLs are from the policy (admins).

On a shared server every object's POSIX ACL names who may read it; after a
revoke, a deny rule or a disabled account the daemon rewrites the ACLs in
the background. This shows that queue and its progress.
"""

from __future__ import annotations

import typer

from workspace.cli.output import print_json, say, table
from workspace.cli.state import JsonFlag, state
from workspace.client.daemon import Json

acl_app = typer.Typer(
    help="Object ACLs on a shared server: pending revokes and restores (admins).",
    no_args_is_help=True,
)


@acl_app.command("status")
def status(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the ACL work the daemon still has to do, and how the store stands."""
    with state(ctx).client() as client:
        answer = client.get("/v1/acl")
    if as_json:
        print_json(answer)
        return
    _print_overview(answer)


def _print_overview(answer: Json) -> None:
    if answer.get("mode") != "service":
        say("single-user daemon: objects carry no ACLs (only its own user reads them)")
        return
    version = answer.get("policy_version") or {}
    behind = version.get("evaluated") != version.get("current")
    say(f"objects: {'ACLs set' if answer.get('converted') else 'not converted yet'}; "
          f"{answer.get('holdings', 0):,} holdings, {answer.get('entries', 0):,} object "
          f"entries, {answer.get('copies', 0):,} private copies"
          + ("; policy change not evaluated yet" if behind else ""))
    queue = answer.get("queue") or []
    if not queue:
        say("no ACL work pending")
        return
    table(("principal", "dataset", "now", "why", "done", "since"),
          [(str(q.get("principal")), str(q.get("dataset")), str(q.get("state")),
            str(q.get("reason")), f"{q.get('done', 0):,}/{q.get('total', 0):,}",
            str(q.get("since"))) for q in queue], title="pending ACL work")

"""`ws audit reset-checkpoints`: an admin vouches for a new checkpoint file, in the log;
and the `ws audit` group (`ws audit` and `ws audit verify` live with the other history
commands).
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli import commands_history
from workspace.cli.output import print_json, say
from workspace.cli.state import JsonFlag, state


def audit_reset_checkpoints(
    ctx: typer.Context,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            metavar="TEXT",
            help="Why the old checkpoint file cannot be trusted or is gone (recorded in the "
            "audit log).",
            show_default=False,
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Set the checkpoint file aside and start a new one at the current head (admin only).

    Use it only when you know why `ws audit verify` says `no_checkpoint` (a restored
    database, a moved audit_log_dir): from now on the new file vouches for the chain as it
    is. The old file is kept beside it; the reset and its reason are an audit event.
    """
    with state(ctx).client() as client:
        answer = client.post("/v1/audit/checkpoints/reset", {"reason": reason})
    if as_json:
        print_json(answer)
        return
    checkpoint = answer.get("checkpoint") or {}
    aside = answer.get("set_aside")
    say(f"new checkpoint file {answer.get('checkpoint_file')}, starting at event "
          f"{checkpoint.get('sequence')}; the old one ({answer.get('previous')}) "
          + (f"was kept as {aside}" if aside else "did not exist"))


audit_app = typer.Typer(context_settings={"help_option_names": ["-h", "--help"]})
audit_app.callback(invoke_without_command=True)(commands_history.audit)  # `ws audit [filters]`
audit_app.command("verify")(commands_history.audit_verify)
audit_app.command("reset-checkpoints")(audit_reset_checkpoints)

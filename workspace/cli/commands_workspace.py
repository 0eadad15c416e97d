"""Commands about the workspace itself: init, deinit, status, unlock."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from workspace.cli import acl
from workspace.cli.client import Json, workspace_root
from workspace.cli.output import print_json
from workspace.cli.paths import daemon_path, in_workspace, shown
from workspace.cli.state import JsonFlag, state
from workspace.cli.unlock import UnlockReport, unlock
from workspace.errors import InvalidInput

_CHANGE_KINDS = ("modified", "added", "deleted")


def init(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(metavar="PATH", help="Directory to register (usually your git checkout)."),
    ] = ".",
    as_json: JsonFlag = False,
) -> None:
    """Register a directory as your workspace, so the daemon may link data into it.

    On a shared server (the daemon runs as its own user) this also grants that
    user access to the directory through a POSIX ACL (docs/install.md).
    """
    target = daemon_path(path)
    with state(ctx).client() as client:
        service = acl.service_user(client.get("/v1/health"))
        with acl.granted_for(service, Path(target)) as changed:
            answer = client.post("/v1/workspaces", {"path": target})
    if as_json:
        print_json({**answer, "access": _access_json(service, changed)})
        return
    root = workspace_root(answer) if answer.get("workspace") else target
    print(
        f"registered workspace {root}" if answer.get("created") else f"already a workspace: {root}"
    )
    _print_access("gave", service, changed)


def deinit(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="The workspace directory to unregister.")
    ] = ".",
    force: Annotated[
        bool, typer.Option("--force", help="Unregister even if paths are still tracked.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Unregister a workspace and take back the daemon's access to it (undoes `ws init`)."""
    target = daemon_path(path)
    with state(ctx).client() as client:
        service = acl.service_user(client.get("/v1/health"))
        answer = client.delete("/v1/workspaces", {"path": target, "force": force or None})
    changed = acl.revoke_all(service, Path(target), list(answer.get("remaining") or []))
    if as_json:
        print_json({**answer, "access": _access_json(service, changed)})
        return
    print(f"unregistered workspace {workspace_root(answer)}")
    if answer.get("untracked"):
        print(f"no longer tracked (files left as they are): {', '.join(answer['untracked'])}")
    _print_access("took back", service, changed)


def status(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="PATH",
            help="Where to look; default: the current directory.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Show which tracked paths differ from their recorded version, file by file."""
    with state(ctx).client() as client:
        answer = client.get("/v1/status", {"path": daemon_path(path or os.getcwd())})
    if as_json:
        print_json(answer)
    else:
        _print_status(answer)


def untrack(
    ctx: typer.Context,
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="The tracked path (as `ws status` lists it).")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Stop tracking PATH and remove the files the daemon put there.

    Your own files under it (unlocked, edited, added) stay, and so does the
    pointer file (it is part of your git history: `git rm` it if you want).
    The way to clean up a dataset you may no longer read.
    """
    with state(ctx).client() as client:
        answer = client.post("/v1/untrack", {"path": daemon_path(path)})
    if as_json:
        print_json(answer)
        return
    tracked = in_workspace(workspace_root(answer), str(answer.get("path")))
    print(f"no longer tracking {shown(tracked)} ({answer.get('dataset')}@"
          f"{answer.get('version')}): removed {_files(int(answer.get('removed') or 0))}")
    for kept in answer.get("kept") or []:
        print(f"  kept (yours): {shown(in_workspace(workspace_root(answer), str(kept)))}")


def unlock_command(
    ctx: typer.Context,
    paths: Annotated[
        list[str],
        typer.Argument(metavar="PATH...", help="Files or directories inside tracked paths."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Make files editable: replace their shared store links by private copies.

    Edit a tracked file only after unlocking it: writing through a link would
    change the one stored copy everyone shares. Symlinks are never followed.
    """
    targets = [daemon_path(path) for path in paths]
    with state(ctx).client() as client:
        for path, target in zip(paths, targets, strict=True):
            if client.get("/v1/workspaces/locate", {"path": target}).get("target") is None:
                raise InvalidInput(
                    f"{path} is not inside a tracked path", hint="`ws status` lists tracked paths"
                )
    report = UnlockReport()
    for target in targets:
        unlock(target, report)
    if as_json:
        print_json(
            {
                "unlocked": report.unlocked,
                "already_unlocked": report.already_unlocked,
                "skipped_symlinks": report.skipped_symlinks,
            }
        )
    else:
        _print_unlock(report)


def _access_json(service: acl.ServiceUser | None, changed: acl.Changed | None) -> Json | None:
    if service is None or changed is None:
        return None
    return {"user": service.name, "uid": service.uid, "directories": changed.directories,
            "files": changed.files, "ancestors": changed.ancestors,
            "unreadable": changed.unreadable}


def _print_access(verb: str, service: acl.ServiceUser | None,
                  changed: acl.Changed | None) -> None:
    """One line on the ACL grant (shared server only), and what it could not reach."""
    if service is None or changed is None:
        return
    line = (f"{verb} the daemon's user {service.name} access (POSIX ACL): "
            f"{changed.directories:,} directories, {changed.files:,} files")
    if changed.ancestors:
        line += f"; search access on {', '.join(changed.ancestors)}"
    print(line)
    for skipped in changed.unreadable:
        print(f"warning: could not enter {shown(skipped)}; the daemon cannot use it",
              file=sys.stderr)


def _print_status(answer: Json) -> None:
    root = workspace_root(answer)
    tracked = answer.get("tracked") or []
    if not tracked:
        print(f"no tracked paths in {shown(root)}")
        print("(`ws add PATH -d DATASET -m MESSAGE` starts tracking one)")
        return
    for entry in tracked:
        _print_tracked(root, entry)
    if all(entry.get("clean") for entry in tracked):
        print("nothing to commit")
    else:
        print(
            "(`ws commit PATH -m MESSAGE` records changes; `ws checkout PATH --force` drops them)"
        )


def _print_tracked(root: str, entry: Json) -> None:
    tracked = in_workspace(root, str(entry.get("path")))
    head = f"{shown(tracked)} ({entry.get('dataset')}@{entry.get('version')})"
    if entry.get("watched") is False:
        print(f"{shown(tracked)} is not watched, so status scans it: {entry.get('reason')}")
    _print_access_note(tracked, entry)
    if entry.get("clean"):
        print(f"{head}: clean")
        return
    print(f"{head}:")
    for kind in _CHANGE_KINDS:
        for changed in entry.get(kind) or []:
            print(f"  {kind + ':':<10}{shown(_changed_path(tracked, entry, str(changed)))}")


def _print_access_note(tracked: str, entry: Json) -> None:
    """On a shared server: a dataset the user may no longer read, and ACL work under way."""
    pending = entry.get("acl_pending")
    if entry.get("readable") is False:
        print(f"{shown(tracked)}: you may no longer read {entry.get('dataset')}; its files "
              f"there cannot be opened" + (" (being withdrawn: " + _progress(pending) + ")"
                                           if pending else ""))
        print(f"  (`ws untrack {shown(tracked)}` removes them; ask an admin if this is a mistake)")
    elif pending:
        print(f"{shown(tracked)}: read access being restored ({_progress(pending)})")


def _progress(pending: Json) -> str:
    return f"{pending.get('done', 0):,} of {pending.get('total', 0):,} files done"


def _changed_path(tracked: str, entry: Json, changed: str) -> str:
    """Changes are named relative to their tracked directory (a tracked file is itself)."""
    if entry.get("kind") == "file":
        return tracked
    return in_workspace(tracked, changed)


def _print_unlock(report: UnlockReport) -> None:
    for link in report.skipped_symlinks:
        print(f"skipped symlink {shown(link)} (symlinks are not followed)", file=sys.stderr)
    line = f"unlocked {_files(len(report.unlocked))}"
    if report.already_unlocked:
        line += f"; already unlocked: {len(report.already_unlocked)}"
    print(line)


def _files(number: int) -> str:
    return f"{number:,} file" if number == 1 else f"{number:,} files"

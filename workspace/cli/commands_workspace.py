"""Commands about the workspace itself: init, deinit, status, unlock."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Annotated

import typer

from workspace.cli import acl
from workspace.cli.commands_locks import lock_for_unlock, print_locked
from workspace.cli.output import plural, print_json, say, warn
from workspace.cli.state import JsonFlag, state
from workspace.cli.status import run_status
from workspace.cli.unlock import UnlockReport, unlock
from workspace.client.daemon import Json, workspace_root
from workspace.client.paths import daemon_path, in_workspace, shown
from workspace.errors import InvalidInput, NotFound, PermissionDenied

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
    _check_own_directory(path, target)
    with state(ctx).client() as client:
        service = acl.service_user(client.get("/v1/health"))
        with acl.granted_for(service, Path(target)) as changed:
            answer = client.post("/v1/workspaces", {"path": target})
    if as_json:
        print_json({**answer, "access": _access_json(service, changed)})
        return
    root = workspace_root(answer) if answer.get("workspace") else target
    say(f"registered workspace {root}" if answer.get("created") else f"already a workspace: {root}")
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
    say(f"unregistered workspace {workspace_root(answer)}")
    if answer.get("untracked"):
        say(f"no longer tracked (files left as they are): {', '.join(answer['untracked'])}")
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
    """Show which tracked paths differ from their recorded version, file by file,
    and which pointer files name another version than the one checked out."""
    options = state(ctx)
    run_status(socket=options.socket_option, server=options.server_option, path=path,
               as_json=as_json)


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
    removed = plural(int(answer.get("removed") or 0), "file")
    say(f"no longer tracking {shown(tracked)} ({answer.get('dataset')}@"
        f"{answer.get('version')}): removed {removed}")
    for kept in answer.get("kept") or []:
        say(f"  kept (yours): {shown(in_workspace(workspace_root(answer), str(kept)))}")


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
        locked = lock_for_unlock(client, targets)
    report = UnlockReport()
    for target in targets:
        unlock(target, report)
    if as_json:
        print_json(
            {
                "unlocked": report.unlocked,
                "already_unlocked": report.already_unlocked,
                "skipped_symlinks": report.skipped_symlinks,
                "locked": locked,
            }
        )
        return
    if locked is not None:
        print_locked(locked)
    _print_unlock(report)


def _check_own_directory(path: str, target: str) -> None:
    """Say what is wrong with PATH as you see it: the daemon answers every unusable path
    alike (it must not tell what it sees in places you cannot), so it cannot say."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        raise NotFound(f"{path} does not exist", hint="create the directory first") from None
    except OSError:
        return  # you cannot see it either: the daemon's answer is all there is to say
    if stat.S_ISLNK(info.st_mode):
        raise InvalidInput(f"{path} is a symbolic link",
                           hint=f"run `ws init` in the directory it points to: "
                           f"{os.path.realpath(target)}")
    if not stat.S_ISDIR(info.st_mode):
        raise InvalidInput(f"{path} is not a directory", hint="give your project's directory")
    if info.st_uid != os.geteuid():
        raise PermissionDenied(f"{path} belongs to uid {info.st_uid}, not to you",
                               hint="a workspace must be a directory you own")


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
            f"{plural(changed.directories, 'directory', 'directories')}, "
            f"{plural(changed.files, 'file')}")
    if changed.ancestors:
        line += f"; search access on {', '.join(changed.ancestors)}"
    say(line)
    for skipped in changed.unreadable:
        warn(f"warning: could not enter {shown(skipped)}; the daemon cannot use it")


def _print_unlock(report: UnlockReport) -> None:
    for link in report.skipped_symlinks:
        warn(f"skipped symlink {shown(link)} (symlinks are not followed)")
    line = f"unlocked {plural(len(report.unlocked), 'file')}"
    if report.already_unlocked:
        line += f"; already unlocked: {len(report.already_unlocked):,}"
    say(line)

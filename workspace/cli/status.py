"""How `ws status` reads: what changed, what the pointer files say, what you may no longer read.

The daemon compares each tracked path with the version it holds. Two things
only the CLI can add, and says:

- a pointer file (`PATH.ws`, in git) that names another version than the
  one checked out, which is what `git checkout` of another commit leaves:
  the data is "clean" against its own version, yet not what the commit
  names, so `ws checkout` is the next step;
- tracked paths whose dataset the caller may no longer read (the daemon
  lists them apart, without their changes).
"""

from __future__ import annotations

from pathlib import Path

from workspace.cli.output import print_json, say
from workspace.client.connect import connect
from workspace.client.daemon import Json, workspace_root
from workspace.client.paths import current_dir, daemon_path, in_workspace, shown
from workspace.client.pointers import read_beside
from workspace.errors import WorkspaceError
from workspace.pointer import SUFFIX

_CHANGE_KINDS = ("modified", "added", "deleted")
CHANGES_HINT = ("(`ws commit PATH -m MESSAGE` records the changes; `ws checkout PATH --force` "
                "puts modified and deleted files back as recorded and keeps added files)")
POINTER_HINT = "(`ws checkout` brings every tracked path to the version its pointer file names)"


def run_status(*, socket: Path | None, server: str | None, path: str | None,
               as_json: bool) -> None:
    """`ws status [PATH] [--json]`, for the Typer command and for the light path (fast.py)."""
    with connect(socket=socket, server=server) as client:
        answer = client.get("/v1/status", {"path": daemon_path(path or current_dir())})
    answer = with_pointers(answer)
    if as_json:
        print_json(answer)
    else:
        print_status(answer)


def with_pointers(answer: Json) -> Json:
    """The status answer, each tracked entry with what its pointer file names.

    ``"pointer"``: ``{"dataset", "version"}``, ``{"error": message}`` for a
    pointer file that cannot be read, or None when there is none.
    """
    root = workspace_root(answer)
    for entry in answer.get("tracked") or []:
        entry["pointer"] = _pointer_of(in_workspace(root, str(entry.get("path"))))
    return answer


def print_status(answer: Json) -> None:
    root = workspace_root(answer)
    tracked = answer.get("tracked") or []
    unreadable = answer.get("unreadable") or []
    if not tracked and not unreadable:
        say(f"no tracked paths in {shown(root)}")
        say("(`ws add PATH -d DATASET -m MESSAGE` starts tracking one)")
        return
    for entry in tracked:
        _print_tracked(root, entry)
    for entry in unreadable:
        _print_unreadable(root, entry)
    changed = not all(entry.get("clean") for entry in tracked)
    stale = any(_stale(entry) for entry in tracked)
    if changed:
        say(CHANGES_HINT)
    if stale:
        say(POINTER_HINT)
    if not changed and not stale and tracked:
        say("nothing to commit")


def _print_tracked(root: str, entry: Json) -> None:
    tracked = in_workspace(root, str(entry.get("path")))
    head = f"{shown(tracked)} ({entry.get('dataset')}@{entry.get('version')})"
    if entry.get("watched") is False:
        say(f"{shown(tracked)} is not watched, so status scans it: {entry.get('reason')}")
    say(f"{head}: clean" if entry.get("clean") else f"{head}:")
    if entry.get("acl_pending"):
        say(f"  read access being restored ({_progress(entry['acl_pending'])})")
    if not entry.get("clean"):
        for kind in _CHANGE_KINDS:
            for changed in entry.get(kind) or []:
                say(f"  {kind + ':':<10}{shown(_changed_path(tracked, entry, str(changed)))}")
    note = _pointer_note(tracked, entry)
    if note:
        say(f"  {note}")


def _print_unreadable(root: str, entry: Json) -> None:
    tracked = shown(in_workspace(root, str(entry.get("path"))))
    dataset = entry.get("dataset")
    say(f"{tracked} ({dataset}@{entry.get('version')}): you may no longer read {dataset}, "
        "so its changes are not shown; ask an admin for a role on it to use it again")
    pending = entry.get("acl_pending")
    if pending:
        say(f"  its files are being made unreadable ({_progress(pending)})")
    say(f"  (`ws untrack {tracked}` removes the files the daemon put there and keeps yours)")


def _progress(pending: Json) -> str:
    return f"{pending.get('done', 0):,} of {pending.get('total', 0):,} files done"


def _pointer_note(tracked: str, entry: Json) -> str | None:
    pointer = entry.get("pointer")
    name = shown(tracked + SUFFIX)
    if isinstance(pointer, dict) and "error" in pointer:
        return f"{name} cannot be read: {pointer['error']}"
    if not _stale(entry):
        return None
    assert isinstance(pointer, dict)
    return (f"{name} names {pointer.get('dataset')}@{pointer.get('version')}: "
            f"run `ws checkout {shown(tracked)}` to bring the data to it")


def _stale(entry: Json) -> bool:
    """The pointer file names another dataset version than the one checked out."""
    pointer = entry.get("pointer")
    if not isinstance(pointer, dict) or "error" in pointer:
        return False
    return (pointer.get("dataset"), pointer.get("version")) != (entry.get("dataset"),
                                                                entry.get("version"))


def _pointer_of(tracked_path: str) -> Json | None:
    try:
        pointer = read_beside(tracked_path)
    except WorkspaceError as exc:
        return {"error": exc.message}
    return None if pointer is None else {"dataset": pointer.dataset, "version": pointer.version}


def _changed_path(tracked: str, entry: Json, changed: str) -> str:
    """Changes are named relative to their tracked directory (a tracked file is itself)."""
    if entry.get("kind") == "file":
        return tracked
    return in_workspace(tracked, changed)

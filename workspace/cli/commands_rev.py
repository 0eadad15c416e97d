"""Data at a git revision, without touching git's working tree.

`ws checkout --rev REV` reads the pointer files as they are at REV (in git's
object database, not on disk) and brings each tracked path to that version;
the pointer files on disk stay as they are, so git sees no change. `ws diff
--rev A..B` lists the datasets (and their files) that differ between two
revisions.
"""

from __future__ import annotations

import typer

from workspace.cli.gitinfo import changed_pointers_between, pointers_at
from workspace.cli.output import print_error, print_json, say, summary_line
from workspace.cli.state import state
from workspace.cli.writes import run_write
from workspace.client.daemon import DaemonClient, Json, workspace_root
from workspace.client.paths import current_dir, daemon_path, shown
from workspace.errors import DaemonUnreachable, NotFound, WorkspaceError
from workspace.pointer import SUFFIX, Pointer, parse


def checkout_at_rev(ctx: typer.Context, rev: str, path: str | None, *, force: bool,
                    as_json: bool) -> None:
    with state(ctx).client() as client:
        root = _root(client)
        pointers = pointers_at(rev, root)
        if path is not None:
            pointers = _only(pointers, daemon_path(path) + SUFFIX, rev)
        outcomes = [_checkout_one(client, rev, file, text, force=force, as_json=as_json)
                    for file, text in sorted(pointers.items())]
    failures = [o for o in outcomes if isinstance(o, WorkspaceError)]
    if as_json:
        done = [o for o in outcomes if not isinstance(o, WorkspaceError)]
        print_json({"rev": rev, "checkouts": done})
    elif not pointers:
        say(f"no pointer files at {rev} under {shown(root)}")
    if failures:
        raise type(failures[0])(f"{len(failures)} of {len(pointers)} tracked paths were not "
                                f"checked out at {rev}", hint="see the errors above")


def diff_revisions(ctx: typer.Context, spec: str, *, as_json: bool) -> None:
    from workspace.vcs.revisions import parse_range

    a, b = parse_range(spec)
    with state(ctx).client() as client:
        root = _root(client)
        changes = [_compare(client, file, old, new, spec)
                   for file, old, new in changed_pointers_between(a or "HEAD", b or "HEAD", root)]
    if as_json:
        print_json({"a": a, "b": b, "changes": changes})
        return
    if not changes:
        say(f"no data differs between {spec}")
    for change in changes:
        _print_change(change)


def _root(client: DaemonClient) -> str:
    located = client.get("/v1/workspaces/locate", {"path": daemon_path(current_dir())})
    return workspace_root(located)


def _only(pointers: dict[str, bytes], wanted: str, rev: str) -> dict[str, bytes]:
    if wanted not in pointers:
        raise NotFound(f"there is no pointer {shown(wanted)} at {rev}",
                       hint=f"`git show {rev} --stat` shows what that revision holds")
    return {wanted: pointers[wanted]}


def _checkout_one(client: DaemonClient, rev: str, file: str, text: bytes, *, force: bool,
                  as_json: bool) -> Json | WorkspaceError:
    label = f"{rev}:{shown(file)}"
    try:
        pointer = parse(text.decode("utf-8", errors="replace"), source=label)
        body: Json = {"ref": f"{pointer.dataset}@{pointer.version}",
                      "path": file.removesuffix(SUFFIX), "digest": pointer.digest,
                      "force": force}
        result = run_write(client, "/v1/get", body, label=f"checking out {label}",
                           as_json=as_json, write_pointer=False)
    except DaemonUnreachable:
        raise
    except WorkspaceError as exc:
        exc.message = f"{label}: {exc.message}" if label not in exc.message else exc.message
        print_error(exc, as_json=as_json)
        return exc
    if not as_json:
        say(summary_line(result))
    return result


def _compare(client: DaemonClient, file: str, old: bytes | None, new: bytes | None,
             spec: str) -> Json:
    before, after = _pointer(old, f"{spec} (old) {file}"), _pointer(new, f"{spec} (new) {file}")
    change: Json = {"path": file.removesuffix(SUFFIX), "old": _ref(before), "new": _ref(after),
                    "diff": None}
    if before and after:
        change["diff"] = client.get("/v1/diff", {"a": f"{before.dataset}@{before.version}",
                                                 "b": f"{after.dataset}@{after.version}"})
    return change


def _pointer(text: bytes | None, source: str) -> Pointer | None:
    return None if text is None else parse(text.decode("utf-8", errors="replace"), source=source)


def _ref(pointer: Pointer | None) -> Json | None:
    return None if pointer is None else {"dataset": pointer.dataset, "version": pointer.version}


def _print_change(change: Json) -> None:
    old, new, path = change["old"], change["new"], change["path"]
    if old is None:
        say(f"added    {path}: {new['dataset']}@{new['version']}")
        return
    if new is None:
        say(f"removed  {path}: was {old['dataset']}@{old['version']}")
        return
    say(f"changed  {path}: {old['dataset']}@{old['version']} -> "
          f"{new['dataset']}@{new['version']}")
    for kind in ("added", "modified", "deleted"):
        for item in change["diff"].get(kind) or []:
            say(f"  {kind}: {item['path']}")

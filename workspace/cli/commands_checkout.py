"""`ws checkout`: make tracked paths match their pointers (or a chosen version).

With a PATH it checks out that one tracked path. Without one it is the step
after `git checkout`: every pointer file in the workspace names the version
its data should be at, and each is brought there. One bad pointer does not
stop the others; the command fails at the end if any did.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workspace.cli.commands_data import ForceOpt
from workspace.cli.output import print_error, print_json, say, summary_line
from workspace.cli.state import JsonFlag, state
from workspace.cli.writes import report, run_write
from workspace.client.daemon import DaemonClient, Json, workspace_root
from workspace.client.paths import current_dir, daemon_path, in_workspace, shown
from workspace.client.pointers import find_all, read_beside
from workspace.errors import DaemonUnreachable, InvalidInput, NotFound, WorkspaceError
from workspace.pointer import SUFFIX
from workspace.refs import parse_ref


def checkout(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            metavar="PATH",
            help="Tracked path to check out; default: every pointer in this workspace.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(
            "--version", min=1, metavar="N", help="Version number of PATH's dataset to check out."
        ),
    ] = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref", metavar="REF",
            help="Reference to check out: DATASET@N, DATASET@TAG or DATASET@ALIAS."
        ),
    ] = None,
    rev: Annotated[
        str | None,
        typer.Option(
            "--rev", metavar="GIT-REV",
            help="Use the pointer files as they are at this git revision (git's working tree "
            "is not touched).",
        ),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonFlag = False,
) -> None:
    """Bring tracked data to the version its pointer file names (e.g. after `git checkout`)."""
    if sum(option is not None for option in (version, ref, rev)) > 1:
        raise InvalidInput("give only one of --version, --ref and --rev")
    if rev is not None:
        from workspace.cli.commands_rev import checkout_at_rev

        checkout_at_rev(ctx, rev, path, force=force, as_json=as_json)
        return
    if path is None:
        if version is not None or ref is not None:
            raise InvalidInput(
                "--version and --ref need a PATH", hint="e.g. `ws checkout data --version 2`"
            )
        _checkout_all(ctx, force=force, as_json=as_json)
        return
    with state(ctx).client() as client:
        body = _single_request(client, path, version=version, ref=ref)
        body["force"] = force
        label = f"checking out {path}"
        route = "/v1/checkout" if body.pop("tracked") else "/v1/get"
        result = run_write(client, route, body, label=label, as_json=as_json)
    report(result, as_json)


def _single_request(
    client: DaemonClient, path: str, *, version: int | None, ref: str | None
) -> Json:
    """The checkout body for one PATH: explicit ref, PATH's dataset at --version, or PATH.ws."""
    target_path = daemon_path(path)
    target = _whole_tracked_path(client, path, target_path)
    tracked = target is not None
    if ref is not None:
        return {"path": target_path, "ref": str(parse_ref(ref)), "digest": None,
                "tracked": tracked}
    pointer = read_beside(target_path)
    if version is not None:
        dataset = target.get("dataset") if target else pointer.dataset if pointer else None
        if dataset is None:
            raise InvalidInput(
                f"{path} is not tracked and has no pointer file, so it has no dataset",
                hint="name one: `ws checkout PATH --ref DATASET@N`",
            )
        return {"path": target_path, "ref": f"{dataset}@{version}", "digest": None,
                "tracked": tracked}
    if pointer is None:
        raise InvalidInput(
            f"there is no pointer file {path.rstrip('/')}{SUFFIX}",
            hint="give --version N or --ref DATASET@N, or use `ws get REF PATH` for a new path",
        )
    ref = f"{pointer.dataset}@{pointer.version}"
    return {"path": target_path, "ref": ref, "digest": pointer.digest, "tracked": tracked}


def _whole_tracked_path(client: DaemonClient, path: str, target_path: str) -> Json | None:
    """PATH's tracked path (None if untracked); a path inside one is refused, not widened."""
    located = client.get("/v1/workspaces/locate", {"path": target_path})
    target = located.get("target")
    if target and located.get("relpath") not in (None, "", "."):
        whole = shown(in_workspace(workspace_root(located), str(target.get("path"))))
        raise InvalidInput(
            f"{path} is inside the tracked path {whole}: checkout works on whole tracked paths",
            hint=f"run `ws checkout {whole}`",
        )
    return target if isinstance(target, dict) else None


def _checkout_all(ctx: typer.Context, *, force: bool, as_json: bool) -> None:
    with state(ctx).client() as client:
        located = client.get("/v1/workspaces/locate", {"path": daemon_path(current_dir())})
        root = workspace_root(located)
        tracked = {in_workspace(root, str(t.get("path"))) for t in located.get("tracked") or []}
        pointers = find_all(root, tracked)
        outcomes = [_checkout_pointer(client, p, force=force, as_json=as_json) for p in pointers]
    failures = [error for error in outcomes if isinstance(error, WorkspaceError)]
    if as_json:
        print_json({"checkouts": [o for o in outcomes if not isinstance(o, WorkspaceError)]})
    if not pointers and not as_json:
        say(f"no pointer files under {shown(root)}")
    if failures:
        done = len(pointers) - len(failures)
        raise type(failures[0])(
            f"{len(failures)} of {len(pointers)} tracked paths were not checked out",
            hint="see the errors above" + (f"; the other {done} are checked out" if done else ""),
        )


def _checkout_pointer(
    client: DaemonClient, pointer_path: str, *, force: bool, as_json: bool
) -> Json | WorkspaceError:
    """Check out what one pointer file names; an error is reported and returned, not raised."""
    label = shown(pointer_path)
    tracked_path = pointer_path.removesuffix(SUFFIX)
    try:
        pointer = read_beside(tracked_path)
        if pointer is None:
            raise NotFound(f"pointer file {label} disappeared while checking out")
        ref = f"{pointer.dataset}@{pointer.version}"
        body: Json = {"path": tracked_path, "ref": ref, "digest": pointer.digest, "force": force}
        # /v1/get: a path not tracked yet (a fresh clone) starts being tracked; a tracked
        # one is checked out.
        result = run_write(
            client, "/v1/get", body, label=f"checking out {label}", as_json=as_json
        )
    except DaemonUnreachable:
        raise
    except WorkspaceError as exc:
        return _reported(exc, as_json, label)
    if not as_json:
        say(summary_line(result))
    return result


def _reported(exc: WorkspaceError, as_json: bool, label: str | None = None) -> WorkspaceError:
    if label and label not in exc.message:
        exc.message = f"{label}: {exc.message}"
    print_error(exc, as_json=as_json)
    return exc

"""The write commands' work (add, commit, get), shared by their Typer commands and the light
path (``fast.py``): one streaming call to the daemon, then the pointer file and the
`.gitignore` line the CLI writes itself (they belong to the user's git checkout), then a
one-line summary.
"""

from __future__ import annotations

from pathlib import Path

from workspace.cli.output import print_json, say, summary_line
from workspace.cli.progress import StreamProgress
from workspace.client.connect import connect
from workspace.client.daemon import DaemonClient, Json
from workspace.client.paths import daemon_path
from workspace.client.pointers import read_beside, record
from workspace.refs import parse_ref, validate_name


def run_add(*, socket: Path | None, server: str | None, path: str, dataset: str,
            message: str, skip_symlinks: bool, as_json: bool) -> None:
    """`ws add PATH -d DATASET -m MESSAGE`."""
    from workspace.cli.gitinfo import provenance

    body: Json = {
        "path": daemon_path(path),
        "dataset": validate_name(dataset),
        "message": message,
        "skip_symlinks": skip_symlinks,
        "git": provenance(daemon_path(path)),
    }
    with connect(socket=socket, server=server) as client:
        result = run_write(client, "/v1/add", body, label=f"adding {path}", as_json=as_json)
    report(result, as_json)


def run_commit(*, socket: Path | None, server: str | None, path: str, message: str,
               skip_symlinks: bool, as_json: bool) -> None:
    """`ws commit PATH -m MESSAGE`: the version in PATH.ws is sent as the base, so a commit
    made elsewhere in the meantime is a conflict instead of being overwritten."""
    from workspace.cli.gitinfo import provenance

    target = daemon_path(path)
    pointer = read_beside(target)
    body: Json = {
        "path": target,
        "message": message,
        "skip_symlinks": skip_symlinks,
        "base_version": pointer.version if pointer else None,
        "git": provenance(target),
    }
    with connect(socket=socket, server=server) as client:
        result = run_write(client, "/v1/commit", body, label=f"committing {path}", as_json=as_json)
    if result.get("unchanged") and not as_json:
        version = result.get("pointer") or {}
        name = path.rstrip("/") or path
        say(f"nothing to commit in {name} ({version.get('dataset')}@{version.get('version')})")
        return
    report(result, as_json)


def run_get(*, socket: Path | None, server: str | None, ref: str, path: str, force: bool,
            as_json: bool) -> None:
    """`ws get REF PATH`."""
    body: Json = {"ref": str(parse_ref(ref)), "path": daemon_path(path), "force": force}
    with connect(socket=socket, server=server) as client:
        result = run_write(client, "/v1/get", body, label=f"getting {ref}", as_json=as_json)
    report(result, as_json)


def run_write(client: DaemonClient, route: str, body: Json, *, label: str, as_json: bool,
              write_pointer: bool = True) -> Json:
    """One streaming operation, then the pointer and `.gitignore` it implies.

    ``write_pointer=False`` (checkout --rev) leaves git's working tree alone.
    """
    with StreamProgress.for_terminal(label, as_json=as_json) as bar:
        result = client.stream(route, body, bar)
    if write_pointer:
        record(result)
    return result


def report(result: Json, as_json: bool) -> None:
    if as_json:
        print_json(result)
    else:
        say(summary_line(result))

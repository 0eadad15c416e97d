"""Commands for the store over time: gc, fsck, prune, rm, du, and `ws quota`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workspace.cli.output import count, human_size, print_json, say, table
from workspace.cli.progress import StreamProgress
from workspace.cli.state import JsonFlag, state
from workspace.cli.times import short_time
from workspace.client.daemon import Json
from workspace.errors import StoreCorrupt
from workspace.refs import parse_ref, validate_name
from workspace.units import parse_duration, parse_size

DryRun = Annotated[bool, typer.Option("--dry-run", help="Say what would happen; change nothing.")]
Force = Annotated[bool, typer.Option(
    "--force", help="Also prune versions that are tagged or checked out in a workspace.")]
KeepTagged = Annotated[bool, typer.Option(
    "--keep-tagged", help="Keep tagged versions even with --force.")]

quota_app = typer.Typer(help="Limit the bytes the datasets matching a pattern may hold (admin).",
                        no_args_is_help=True,
                        context_settings={"help_option_names": ["-h", "--help"]})


def gc(
    ctx: typer.Context,
    dry_run: DryRun = False,
    grace: Annotated[str | None, typer.Option(
        "--grace", metavar="DURATION",
        help="Keep objects changed more recently than this (e.g. 24h); default: gc_grace.")] = None,
    evict: Annotated[bool, typer.Option(
        "--evict", help="Then also drop local objects the default remote holds and no "
        "workspace links; a checkout fetches them back.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Apply the retention rules, then delete the objects no kept version references (admin)."""
    body: Json = {"dry_run": dry_run, "grace": None if grace is None else parse_duration(grace),
                  "evict": evict}
    answer = _stream(ctx, "/v1/gc", body, "gc", as_json)
    if as_json:
        print_json(answer)
        return
    for rule in answer.get("retention") or []:
        verb = "would prune" if dry_run else "pruned"
        say(f"retention {rule.get('rule')}: {verb} {rule.get('dataset')} versions "
              f"{_numbers(rule.get('pruned'))}")
    verb = "would remove" if dry_run else "removed"
    say(f"{verb} {count(answer.get('removed', 0))} objects, "
          f"{human_size(answer.get('removed_bytes'))} (of {count(answer.get('objects', 0))}); "
          f"kept {count(answer.get('linked', 0))} still linked in workspaces, "
          f"{count(answer.get('young', 0))} younger than the grace period, "
          f"{count(answer.get('pinned', 0))} in use by running operations")
    if answer.get("tmp_removed"):
        say(f"removed {count(answer['tmp_removed'])} stale temporary files, "
              f"{human_size(answer.get('tmp_bytes'))}")
    if answer.get("evict"):
        _print_evicted(answer["evict"])


def _print_evicted(evicted: Json) -> None:
    verb = "would evict" if evicted.get("dry_run") else "evicted"
    say(f"{verb} {count(evicted.get('evicted', 0))} objects, "
        f"{human_size(evicted.get('evicted_bytes'))} (held by remote {evicted.get('remote')}; "
        f"of {count(evicted.get('objects', 0))} referenced); kept "
        f"{count(evicted.get('linked', 0))} linked in workspaces, "
        f"{count(evicted.get('pinned', 0))} in use, "
        f"{count(evicted.get('not_on_remote', 0))} not on the remote")


def fsck(
    ctx: typer.Context,
    read_data: Annotated[bool, typer.Option(
        "--read-data", help="Also re-hash every object (reads the whole store).")] = False,
    repair: Annotated[bool, typer.Option(
        "--repair", help="Restore damaged objects from workspace copies that hash right; make "
        "writable objects read-only.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Check the store and the database's references; exit 7 if anything is wrong (admin)."""
    answer = _stream(ctx, "/v1/fsck", {"read_data": read_data, "repair": repair}, "fsck",
                     as_json)
    if as_json:
        print_json(answer)
    else:
        _print_fsck(answer)
    if not answer.get("ok"):
        raise StoreCorrupt(
            f"fsck found {answer.get('problems')} problem(s); {answer.get('damaged')} "
            "object(s) damaged",
            hint="`ws fsck --repair` restores damaged objects from workspaces that hold a good "
            "copy; versions holding a damaged object are refused until then")


def prune(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help="The dataset to prune.")],
    keep_last: Annotated[int, typer.Option(
        "--keep-last", metavar="N", min=1, help="Keep the newest N versions (required).")],
    keep_tagged: KeepTagged = False,
    older_than: Annotated[str | None, typer.Option(
        "--older-than", metavar="DURATION",
        help="Prune only versions older than this, e.g. 30d.")] = None,
    dry_run: DryRun = False,
    force: Force = False,
    as_json: JsonFlag = False,
) -> None:
    """Prune old versions of DATASET; `ws gc` then frees what nothing else uses (maintain)."""
    body: Json = {"dataset": validate_name(dataset), "keep_last": keep_last,
                  "keep_tagged": keep_tagged, "dry_run": dry_run, "force": force,
                  "older_than": None if older_than is None else parse_duration(older_than)}
    with state(ctx).client() as client:
        answer = client.post("/v1/prune", body)
    _print_pruned(answer, as_json)


def rm(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(
        metavar="REF", help="DATASET (every version) or DATASET@N / DATASET@TAG (one).")],
    keep_tagged: KeepTagged = False,
    dry_run: DryRun = False,
    force: Force = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove a dataset, or one version of it; history stays in `ws log` (maintain)."""
    body: Json = {"ref": str(parse_ref(ref)), "keep_tagged": keep_tagged, "dry_run": dry_run,
                  "force": force}
    with state(ctx).client() as client:
        answer = client.post("/v1/rm", body)
    _print_pruned(answer, as_json)
    if not as_json and answer.get("removed"):
        say(f"{answer.get('dataset')} is removed (`ws log` still shows its history)")


def du(
    ctx: typer.Context,
    pattern: Annotated[str | None, typer.Argument(
        metavar="[DATASET|PATTERN]", help="A dataset, or a prefix pattern like 'scratch/*'.")]
    = None,
    by: Annotated[str, typer.Option(
        "--by", metavar="dataset|user", help="Group by dataset (default) or committing user.")]
    = "dataset",
    as_json: JsonFlag = False,
) -> None:
    """Show logical, physical and unique bytes per dataset or per user."""
    with state(ctx).client() as client:
        answer = client.get("/v1/du", {"pattern": pattern, "by": by})
    if as_json:
        print_json(answer)
        return
    rows = [[str(g.get("name")), count(g.get("versions")), human_size(g.get("logical")),
             human_size(g.get("physical")), human_size(g.get("unique"))]
            for g in answer.get("groups") or []]
    table((by.capitalize(), "Versions", "Logical", "Physical", "Unique"), rows)
    store = answer.get("store") or {}
    say(f"store: {count(store.get('objects', 0))} objects referenced, "
          f"{human_size(store.get('bytes'))}")


@quota_app.command("set")
def quota_set(
    ctx: typer.Context,
    pattern: Annotated[str, typer.Argument(metavar="PATTERN", help="e.g. 'scratch/*'.")],
    size: Annotated[str, typer.Argument(metavar="SIZE", help="e.g. 500G, 10GiB, 1.5T.")],
    as_json: JsonFlag = False,
) -> None:
    """Set (or change) the quota of the datasets matching PATTERN."""
    with state(ctx).client() as client:
        answer = client.post("/v1/quotas", {"pattern": pattern, "size": parse_size(size)})
    if as_json:
        print_json(answer)
        return
    say(f"quota on {answer.get('pattern')}: {human_size(answer.get('bytes'))}")


@quota_app.command("list")
def quota_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the quotas with what their datasets hold now."""
    with state(ctx).client() as client:
        answer = client.get("/v1/quotas")
    if as_json:
        print_json(answer)
        return
    rows = [[str(q.get("pattern")), human_size(q.get("bytes")), human_size(q.get("used")),
             str(q.get("set_by")), short_time(q.get("set_at"))]
            for q in answer.get("quotas") or []]
    if not rows:
        say("no quotas (`ws quota set PATTERN SIZE` adds one)")
        return
    table(("Pattern", "Quota", "Used", "Set by", "Set at"), rows)


@quota_app.command("rm")
def quota_rm(
    ctx: typer.Context,
    pattern: Annotated[str, typer.Argument(metavar="PATTERN", help="The quota's pattern.")],
    as_json: JsonFlag = False,
) -> None:
    """Remove the quota on PATTERN."""
    with state(ctx).client() as client:
        answer = client.delete("/v1/quotas", {"pattern": pattern})
    if as_json:
        print_json(answer)
        return
    say(f"removed the quota on {answer.get('pattern')}")


def _stream(ctx: typer.Context, route: str, body: Json, label: str, as_json: bool) -> Json:
    with state(ctx).client() as client, StreamProgress.for_terminal(
            label, as_json=as_json) as progress:
        return client.stream(route, body, progress)


def _print_pruned(answer: Json, as_json: bool) -> None:
    if as_json:
        print_json(answer)
        return
    verb = "would prune" if answer.get("dry_run") else "pruned"
    pruned = answer.get("pruned") or []
    say(f"{answer.get('dataset')}: {verb} {count(len(pruned))} version(s) "
          f"{_numbers([p.get('version') for p in pruned])}")
    for kept in answer.get("kept") or []:
        say(f"  kept @{kept.get('version')}: {_held(kept)} (--force prunes it)")
    frees = answer.get("frees") or {}
    say(f"  gc can then free {count(frees.get('objects', 0))} objects, "
          f"{human_size(frees.get('bytes'))}, unless a workspace still links them")


def _held(kept: dict[str, Any]) -> str:
    parts = []
    if kept.get("tags"):
        parts.append("tagged " + ", ".join(kept["tags"]))
    if kept.get("workspaces"):
        parts.append("checked out in " + ", ".join(kept["workspaces"]))
    return "; ".join(parts)


def _numbers(values: object) -> str:
    numbers = [str(v) for v in values] if isinstance(values, list) else []
    return ", ".join(numbers) if numbers else "(none)"


def _evicted_note(evicted: object) -> str:
    if not isinstance(evicted, int) or not evicted:
        return ""
    return f"; {count(evicted)} evicted to the remote (fetched back on checkout)"


def _print_fsck(answer: Json) -> None:
    say(f"checked {count(answer.get('objects', 0))} objects, "
          f"{human_size(answer.get('bytes'))}"
          f"{' (re-hashed)' if answer.get('read_data') else ''}"
          f"{_evicted_note(answer.get('evicted'))}")
    for problem in answer.get("problems") or []:
        mark = "fixed" if problem.get("resolved") else "PROBLEM"
        say(f"  {mark}: {problem.get('kind')} {problem.get('oid') or ''} {problem.get('detail')}")
    for item in answer.get("newly_damaged") or []:
        say(f"  quarantined {item.get('oid')} ({item.get('problem')}); damaged: "
              f"{', '.join(item.get('versions') or []) or 'no kept version'}")
    for item in answer.get("repaired") or []:
        say(f"  repaired {item.get('oid')} from {item.get('source')}")
    verified = answer.get("last_verified") or {}
    say(f"last verified: oldest slice {short_time(verified.get('oldest')) or 'never'}, "
          f"newest {short_time(verified.get('newest')) or 'never'}")
    say("ok" if answer.get("ok") else "NOT ok")

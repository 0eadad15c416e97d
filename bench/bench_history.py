#!/usr/bin/env python3
"""History at scale: file blame, path log, audit search and line blame (issue 4's targets).

Run by hand (see bench/README.md)::

    python bench/bench_history.py            # 100,000 files x 10,000 versions, 1M events
    python bench/bench_history.py --files 10000 --versions 1000 --events 100000 \\
        --lines 10000 --line-versions 6 --runs 3 --cli-runs 2     # quick

A fresh ``WORKSPACE_HOME`` gets a migrated SQLite database filled by bulk
inserts (SQLAlchemy Core, straight into the tables): one dataset ``bench/big``
whose version 1 adds every file and each later version modifies 5-15 files
(60% of the picks among a hot 1% of label shards, the rest among all images),
and a chained audit log made by ``bench_audit``'s generator. Then the real
daemon (``ws serve``) starts on it, a scratch project is registered with
``ws init`` and a tracked path ``data`` -> ``bench/big`` is inserted directly.
Timed, warm, medians: each request over the Unix socket (server side: the
daemon's work plus one HTTP round trip) and each command through the real
``ws`` executable (end to end, Python start-up included). Line blame runs on
a CSV committed version by version through the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import random
import shlex
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_audit import USERS, _generate
from benchlib import (
    BenchError,
    healthy,
    in_scratch,
    log,
    run,
    running_daemon,
    timed_get,
)

from workspace.datasets.manifest import ManifestEntry, digest
from workspace.db import Database, migrate
from workspace.db.models import Dataset, Entry, StoredObject, TrackedPath, User, Version, Workspace

DATASET, LINES_DATASET = "bench/big", "bench/lines"
AUTHORS = USERS[:20]
AUDIT_USER = USERS[7]
HOT_SHARE, CHANGES_PER_VERSION = 0.6, (5, 15)
EDITED_LINES, APPENDED_LINES = 50, 3
SPAN = timedelta(days=365)
BATCH = 20_000
LAKEFS_BLAME_S = 70.0
MESSAGES = ("fix labels in review batch", "re-encode corrupt images", "relabel ambiguous samples",
            "drop near-duplicates after dedup pass", "add annotator corrections",
            "refresh shard after schema fix")


@dataclass(slots=True)
class History:
    """What was generated, and the facts the measurements check their answers against."""

    dataset_id: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)
    objects: dict[str, int] = field(default_factory=dict)
    versions: list[dict[str, Any]] = field(default_factory=list)
    changes: Counter[str] = field(default_factory=Counter)
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - SPAN)
    step: timedelta = SPAN


@dataclass(frozen=True, slots=True)
class Row:
    measurement: str
    figure: str
    target: str = "-"
    met: bool | None = None


# --- filling the database ----------------------------------------------------------------


def file_paths(count: int) -> tuple[list[str], list[str]]:
    """(hot, cold): label shards (1% of the files, most of the edits) and images."""
    hot = [f"labels/shard-{i:05d}.jsonl" for i in range(max(1, count // 100))]
    cold = [f"images/c{i % 100:03d}/{i:07d}.jpg" for i in range(count - len(hot))]
    return hot, cold


def fill_history(engine: Engine, files: int, versions: int) -> History:
    rng, history = random.Random(11), History()
    with engine.begin() as conn:
        owner = pwd.getpwuid(os.geteuid())
        owner_id = conn.execute(insert(User).values(
            name=owner.pw_name, uid=owner.pw_uid).returning(User.id)).scalar_one()
        conn.execute(insert(User), [{"name": name, "uid": None} for name in AUTHORS])
        authors = list(conn.scalars(select(User.id).where(User.name.in_(AUTHORS))))
        history.dataset_id = conn.execute(insert(Dataset).values(
            name=DATASET, latest=versions, kind="dir", created_by=owner_id
        ).returning(Dataset.id)).scalar_one()
        build_history(rng, history, files, versions, authors)
        for table, rows in ((StoredObject, [{"oid": o, "size": s}
                                            for o, s in history.objects.items()]),
                            (Version, history.versions), (Entry, history.entries)):
            for start in range(0, len(rows), BATCH):
                conn.execute(insert(table), rows[start:start + BATCH])
    return history


def build_history(rng: random.Random, history: History, files: int, versions: int,
                  authors: list[int]) -> None:
    hot, cold = file_paths(files)
    history.step = SPAN / versions
    live = {path: new_entry(rng, history, path, 1) for path in (*hot, *cold)}
    total = sum(row["size"] for row in live.values())
    history.versions.append(version_row(rng, history, 1, authors, total, live))
    for number in range(2, versions + 1):
        for path in pick_changes(rng, hot, cold):
            live[path]["removed_in"] = number
            total -= live[path]["size"]
            live[path] = new_entry(rng, history, path, number)
            total += live[path]["size"]
        manifest = live if number == versions else None
        history.versions.append(version_row(rng, history, number, authors, total, manifest))


def pick_changes(rng: random.Random, hot: list[str], cold: list[str]) -> list[str]:
    chosen: set[str] = set()
    wanted = rng.randint(*CHANGES_PER_VERSION)
    while len(chosen) < wanted:
        chosen.add(rng.choice(hot if rng.random() < HOT_SHARE else cold))
    return sorted(chosen)  # a set's order would change with PYTHONHASHSEED


def new_entry(rng: random.Random, history: History, path: str, number: int) -> dict[str, Any]:
    oid = rng.randbytes(32).hex()
    mean = 13.5 if path.startswith("labels/") else 11.6  # ~730 KB shards, ~110 KB images
    size = int(rng.lognormvariate(mean, 0.6))
    history.objects[oid] = size
    history.changes[path] += 1
    row = {"dataset_id": history.dataset_id, "path": path, "oid": oid, "size": size,
           "executable": False, "added_in": number, "removed_in": None}
    history.entries.append(row)
    return row


def version_row(rng: random.Random, history: History, number: int, authors: list[int],
                total: int, manifest: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """A version; its digest is the real one for version 1 and the latest (what a pointer
    checks), a stand-in elsewhere (100,000 lines hashed per version would take minutes)."""
    return {
        "dataset_id": history.dataset_id, "number": number, "author_id": rng.choice(authors),
        "created_at": history.start + history.step * number,
        "message": f"{rng.choice(MESSAGES)} #{number}",
        "digest": manifest_digest(manifest) if manifest else
        "sha256:" + sha256(f"{DATASET}@{number}".encode()).hexdigest(),
        "file_count": len(history.changes), "total_bytes": total,
        "git_commit": rng.randbytes(20).hex() if rng.random() < 0.9 else None,
        "git_branch": "main", "git_dirty": rng.random() < 0.05,
    }


def manifest_digest(manifest: dict[str, dict[str, Any]]) -> str:
    return digest(ManifestEntry(r["path"], r["oid"], r["size"], r["executable"])
                  for r in manifest.values())


def fill(url: str, args: argparse.Namespace) -> History:
    migrate(url)
    started = time.perf_counter()
    engine = create_engine(url)
    history = fill_history(engine, args.files, args.versions)
    log(f"{DATASET}: {args.files:,} files, {args.versions:,} versions, "
        f"{len(history.entries):,} entries in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    db = Database(url)
    _generate(db, args.events)
    db.dispose()
    log(f"{args.events:,} chained audit events in {time.perf_counter() - started:.1f}s")
    engine.dispose()
    return history


def track(url: str, project: Path, history: History, latest: int) -> None:
    """Bind ``project/data`` to the dataset as `ws add` would, minus the files (log needs none)."""
    engine = create_engine(url, connect_args={"timeout": 30})
    with engine.begin() as conn:
        workspace_id = conn.scalar(select(Workspace.id).where(Workspace.path == str(project)))
        if workspace_id is None:
            raise BenchError(f"`ws init` did not register {project}")
        conn.execute(insert(TrackedPath).values(workspace_id=workspace_id, path="data",
                                                kind="dir", dataset_id=history.dataset_id,
                                                version=latest))
    engine.dispose()


# --- measuring ---------------------------------------------------------------------------


class Bench:
    """The daemon's socket, the ws command and its environment, and the rows measured."""

    def __init__(self, args: argparse.Namespace, home: Path, project: Path) -> None:
        self.args, self.home, self.project = args, home, project
        self.ws = ws_command(args.ws)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("WORKSPACE_")}
        self.env["WORKSPACE_HOME"] = str(home)
        self.rows: list[Row] = []
        self.seconds: dict[str, float] = {}  # median per measurement, for the anchor line

    def get(self, route: str, **query: Any) -> tuple[float, bytes]:
        """One request on a fresh connection, as the CLI makes it: (seconds, body)."""
        return timed_get(self.home / "ws.sock", route, query)

    def server(self, name: str, target: float | None, route: str, runs: int | None = None,
               before: Callable[[], None] | None = None, **query: Any) -> dict[str, Any]:
        """Median of ``runs`` requests after one untimed (warming) request; returns the JSON."""
        _, body = self.get(route, **query)
        timings = []
        for _ in range(runs or self.args.runs):
            if before is not None:
                before()
            timings.append(self.get(route, **query)[0])
        self.add(name, statistics.median(timings), target, spread(timings))
        return dict(json.loads(body), _bytes=len(body))

    def cli(self, name: str, target: float | None, *argv: str, runs: int | None = None) -> None:
        self.ws_run(*argv)
        timings = [self.ws_run(*argv) for _ in range(runs or self.args.cli_runs)]
        self.add(name, statistics.median(timings), target, spread(timings))

    def ws_run(self, *argv: str) -> float:
        try:
            return run([*self.ws, *argv], cwd=self.project, env=self.env)
        except BenchError as exc:  # was the daemon gone, or only unreachable for a moment?
            state = "answers" if healthy(self.home / "ws.sock") else "does not answer"
            raise BenchError(f"{exc}\n(the daemon {state} GET /v1/health now)") from exc

    def add(self, name: str, seconds: float, target: float | None, note: str = "") -> None:
        self.seconds[name] = seconds
        figure = f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
        self.rows.append(Row(name, figure + note, "-" if target is None else
                             f"< {target * 1000:.0f} ms" if target < 1 else f"< {target:.0f} s",
                             None if target is None else seconds < target))
        log(f"{name}: {figure}")


def ws_command(given: str | None) -> list[str]:
    """The real ``ws`` beside this interpreter: a pyenv shim's start-up is not workspace's."""
    if given:
        return shlex.split(given)
    beside = Path(sys.executable).parent / "ws"
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "workspace.cli.main"]


def spread(timings: Sequence[float]) -> str:
    if len(timings) == 1:
        return "  (1 run)"
    return f"  ({len(timings)} runs: {min(timings) * 1000:.0f}-{max(timings) * 1000:.0f} ms)"


def measure_files(bench: Bench, history: History) -> None:
    answer = bench.server(f"blame {DATASET}, server side", None, "/v1/blame", ref=DATASET)
    if len(answer["paths"]) != bench.args.files:
        raise BenchError(f"blame listed {len(answer['paths'])} files, not {bench.args.files}")
    bench.rows.append(Row("  its JSON answer", f"{answer['_bytes'] / 1e6:.1f} MB"))
    lean = bench.server(f"blame {DATASET} without oids (the table's request), server side",
                        None, "/v1/blame", ref=DATASET, oids="false")
    if "oids" in lean or lean["paths"] != answer["paths"]:
        raise BenchError("blame with oids=false is not the same answer less its oids")
    bench.rows.append(Row("  its JSON answer", f"{lean['_bytes'] / 1e6:.1f} MB"))
    bench.cli(f"ws blame {DATASET}, end to end", 1.0, "blame", DATASET,
              runs=min(3, bench.args.cli_runs))  # tens of seconds each when slow
    bench.cli(f"ws blame {DATASET} --json, end to end", None, "blame", DATASET, "--json")
    hottest, changes = history.changes.most_common(1)[0]
    once = next(p for p, n in sorted(history.changes.items()) if n == 1)
    for path, n in ((hottest, changes), (once, 1)):
        answer = bench.server(f"log data/{path} ({n} change{'s' * (n > 1)}), server side", 0.050,
                              "/v1/log", path=str(bench.project / "data" / path))
        if len(answer["changes"]) != n:
            raise BenchError(f"log of {path} shows {len(answer['changes'])} changes, not {n}")
    bench.cli(f"ws log --path data/{hottest}, end to end", None,
              "log", "--path", f"data/{hottest}")


def measure_audit(bench: Bench) -> None:
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    answer = bench.server(f"audit --user {AUDIT_USER} --since 1d, server side", 0.100,
                          "/v1/audit", user=AUDIT_USER, since=since)
    bench.rows.append(Row("  events returned", f"{len(answer['events'])}"))
    bench.cli(f"ws audit --user {AUDIT_USER} --since 1d, end to end", None,
              "audit", "--user", AUDIT_USER, "--since", "1d")
    if bench.args.verify:
        answer = bench.server("audit verify, server side", 10.0, "/v1/audit/verify", runs=1)
        bench.rows.append(Row("  events checked", f"{answer.get('events'):,}"))


def commit_csv(bench: Bench, lines: int, versions: int) -> int:
    """A CSV added, then edited and committed through the CLI; returns its final line count."""
    rng = random.Random(5)
    csv = bench.project / "table" / "labels.csv"
    csv.parent.mkdir()
    rows = ["id,image,label,score,annotator"] + [csv_row(rng, i) for i in range(1, lines)]
    csv.write_text("\n".join(rows) + "\n")
    bench.ws_run("add", "table", "-d", LINES_DATASET, "-m", "labels v1")
    for number in range(2, versions + 1):
        bench.ws_run("unlock", "table/labels.csv")
        for i in rng.sample(range(1, len(rows)), EDITED_LINES):
            rows[i] = csv_row(rng, i)
        rows += [csv_row(rng, len(rows)) for _ in range(APPENDED_LINES)]
        csv.write_text("\n".join(rows) + "\n")
        bench.ws_run("commit", "table", "-m", f"relabel batch {number}")
        if number % 10 == 0:
            log(f"  {LINES_DATASET}: {number} versions committed")
    return len(rows)


def csv_row(rng: random.Random, i: int) -> str:
    label = rng.choice(("cat", "dog", "fox", "owl", "yak"))
    return f"{i},images/c{i % 100:03d}/{i:07d}.jpg,{label},{rng.random():.4f},{rng.choice(USERS)}"


def measure_lines(bench: Bench) -> None:
    started = time.perf_counter()
    count = commit_csv(bench, bench.args.lines, bench.args.line_versions)
    log(f"CSV of {count:,} lines in {bench.args.line_versions} versions committed in "
        f"{time.perf_counter() - started:.1f}s")
    path = str(bench.project / "table" / "labels.csv")
    cache = bench.home / "cache" / "lineblame"
    answer = bench.server("line blame table/labels.csv, cold, server side", 2.0,
                          "/v1/blame/lines",
                          runs=max(3, bench.args.runs // 2),
                          before=lambda: shutil.rmtree(cache, ignore_errors=True), path=path)
    if len(answer["lines"]) != count or len(answer["versions"]) < 2:
        raise BenchError(f"line blame: {len(answer['lines'])} lines over "
                         f"{len(answer['versions'])} versions, expected {count} lines")
    bench.server("line blame table/labels.csv, cached, server side", 0.100, "/v1/blame/lines",
                 path=path)
    bench.rows.append(Row("  its JSON answer",
                          f"{answer['_bytes'] / 1e6:.1f} MB, {len(answer['versions'])} versions"))
    bench.cli("ws blame --lines table/labels.csv, cached, end to end", None,
              "blame", "--lines", "table/labels.csv")


# --- the run -----------------------------------------------------------------------------


def bench_all(args: argparse.Namespace, root: Path) -> Bench:
    home, project = root / "ws-home", root / "project"
    home.mkdir(mode=0o700)
    project.mkdir()
    history = fill(f"sqlite:///{home / 'workspace.db'}", args)
    bench = Bench(args, home, project)
    with running_daemon([*bench.ws, "serve"], bench.env, home, root / "ws-serve.log"):
        bench.ws_run("init")
        # The events were bulk-inserted, so no checkpoint file vouches for them and verify
        # would call the chain cut: start one, as an admin restoring a database would.
        bench.ws_run("audit", "reset-checkpoints", "--reason", "benchmark fixture")
        track(f"sqlite:///{home / 'workspace.db'}", project, history, args.versions)
        if "files" in args.parts:
            measure_files(bench, history)
        if "audit" in args.parts:
            measure_audit(bench)
        if "lines" in args.parts:
            measure_lines(bench)
    return bench


def report(args: argparse.Namespace, bench: Bench, load: float) -> str:
    rows = bench.rows
    lines = [
        f"data: {DATASET} = {args.files:,} files x {args.versions:,} versions (SQLite); "
        f"{args.events:,} audit events; line blame: {args.lines:,}-line CSV in "
        f"{args.line_versions} versions",
        f"machine: {os.cpu_count()} CPUs, load average {load:.2f} at start, "
        f"{os.getloadavg()[0]:.2f} at end; warm, medians; server side = one HTTP request "
        "over the Unix socket", ""]
    widths = [max(len(r.measurement) for r in rows), max(len(r.figure) for r in rows), 8]
    lines.append(f"{'measurement':<{widths[0]}} | {'figure':<{widths[1]}} | "
                 f"{'target':<{widths[2]}} | met?")
    lines.append("-" * (sum(widths) + 16))
    for r in rows:
        met = "" if r.met is None else "yes" if r.met else "MISSED"
        lines.append(f"{r.measurement:<{widths[0]}} | {r.figure:<{widths[1]}} | "
                     f"{r.target:<{widths[2]}} | {met}")
    lines += ["", f"anchor: lakeFS blame took ~{LAKEFS_BLAME_S:.0f} s over 10k commits "
              "(treeverse/lakeFS#5224, it walks history); ws blame reads one indexed join:"]
    for name in (f"blame {DATASET}, server side", f"ws blame {DATASET}, end to end"):
        if name in bench.seconds:
            lines.append(f"  {name}: {LAKEFS_BLAME_S / bench.seconds[name]:.0f}x faster")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--files", type=int, default=100_000, help="files in bench/big")
    p.add_argument("--versions", type=int, default=10_000, help="versions of bench/big")
    p.add_argument("--events", type=int, default=1_000_000, help="audit events")
    p.add_argument("--lines", type=int, default=100_000, help="lines of the CSV")
    p.add_argument("--line-versions", type=int, default=50, help="versions of the CSV")
    p.add_argument("--runs", type=int, default=9, help="timed requests per measurement")
    p.add_argument("--cli-runs", type=int, default=5, help="timed ws commands per measurement")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip timing `ws audit verify` (GET /v1/audit/verify) once")
    p.add_argument("--ws", help="the ws command (default: the ws beside this Python)")
    p.add_argument("--parts", type=_parts,
                   default={"files", "audit", "lines"},
                   help="what to measure, comma-separated: files (blame, path log), audit, lines")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--scratch-parent", type=Path, default=None)
    return p.parse_args(argv)


def _parts(text: str) -> set[str]:
    parts = set(text.split(","))
    unknown = parts - {"files", "audit", "lines"}
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown part(s) {', '.join(sorted(unknown))}: choose from files, audit, lines")
    return parts


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load = os.getloadavg()[0]
    return in_scratch("ws-bench-history-", args.scratch_parent, args.keep,
                      lambda root: report(args, bench_all(args, root), load))


if __name__ == "__main__":
    sys.exit(main())

"""`ws gc` over a store of 1,000,000 objects referenced by 10,000 versions (target: < 30 s).

The fixture is built directly, not through `ws add` (that would take hours):
tiny (empty) object files named by random ids in a real store layout, and
datasets, versions, objects and entries rows bulk-inserted into a migrated
SQLite database. A share of the objects (default 10%) is referenced by no
version, so gc has real work. Then the real daemon is started on that home
and `ws gc --grace 0 --json` is timed as a user would run it; the daemon's
peak RSS (VmHWM) is read before and after. Run by hand:

    python bench/bench_gc.py                       # 1,000,000 objects, 10,000 versions
    python bench/bench_gc.py --objects 100000 --versions 1000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import log, remove_tree, stop, wait_healthy
from sqlalchemy import insert

from workspace.db import Database, migrate
from workspace.db.models import Dataset, Entry, StoredObject, User, Version
from workspace.store import ObjectStore

TARGET_SECONDS = 30.0
DATASETS = 100


def build(home: Path, objects: int, versions: int, unreferenced: float) -> int:
    """Write the store and the database; returns how many objects no version references."""
    referenced = int(objects * (1 - unreferenced))
    oids = [secrets.token_hex(32) for _ in range(objects)]
    started = time.perf_counter()
    _write_objects(home / "store", oids)
    log(f"{objects:,} object files in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    _write_rows(f"sqlite:///{home / 'workspace.db'}", oids[:referenced], versions)
    log(f"{versions:,} versions, {referenced:,} entries in {time.perf_counter() - started:.1f}s")
    return objects - referenced


def _write_objects(root: Path, oids: list[str]) -> None:
    with ObjectStore.open(root) as store:
        objects_fd = store.layout.objects_fd
        for fanout in {oid[:2] for oid in oids}:
            os.mkdir(fanout, 0o700, dir_fd=objects_fd)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        for oid in oids:
            os.close(os.open(f"{oid[:2]}/{oid[2:]}", flags, 0o444, dir_fd=objects_fd))


def _write_rows(url: str, oids: list[str], versions: int) -> None:
    migrate(url)
    db = Database(url)
    per_dataset = versions // DATASETS
    per_version = max(1, len(oids) // versions)
    now = datetime.now(UTC)
    with db.write() as session:
        conn = session.connection()
        conn.execute(insert(User), [{"name": "bench", "uid": None, "created_at": now}])
        conn.execute(insert(Dataset), [
            {"id": d + 1, "name": f"bench/d{d:03d}", "latest": per_dataset, "kind": "dir",
             "created_by": 1, "created_at": now} for d in range(DATASETS)])
        conn.execute(insert(StoredObject), [{"oid": oid, "size": 0, "created_at": now}
                                            for oid in oids])
        rows, version_rows = [], []
        for index, oid in enumerate(oids):
            version = min(index // per_version, versions - 1)
            dataset, number = version % DATASETS + 1, version // DATASETS + 1
            rows.append({"dataset_id": dataset, "path": f"f{index}", "oid": oid, "size": 0,
                         "executable": False, "added_in": number, "removed_in": None})
        for version in range(versions):
            version_rows.append({"dataset_id": version % DATASETS + 1,
                                 "number": version // DATASETS + 1, "author_id": 1,
                                 "created_at": now, "message": "bench", "digest": "sha256:-",
                                 "file_count": 0, "total_bytes": 0})
        conn.execute(insert(Version), version_rows)
        for start in range(0, len(rows), 50_000):
            conn.execute(insert(Entry), rows[start:start + 50_000])
    db.dispose()
    assert per_dataset * DATASETS == versions


def _peak_rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def run(args: argparse.Namespace) -> dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-gc-", dir=args.scratch_parent))
    home = scratch / "home"
    home.mkdir(mode=0o700)
    try:
        unreferenced = build(home, args.objects, args.versions, args.unreferenced)
        env = {**os.environ, "WORKSPACE_HOME": str(home), "WORKSPACE_WATCH": "false",
               "WORKSPACE_SCRUB_INTERVAL": "0", "WORKSPACE_LOG_LEVEL": "warning"}
        ws = [sys.executable, "-m", "workspace.cli.main"]
        daemon = subprocess.Popen([*ws, "serve"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_healthy(daemon, home / "ws.sock")
            rss_before, _ = _peak_rss(daemon.pid)
            started = time.perf_counter()
            done = subprocess.run([*ws, "gc", "--grace", "0", "--json"], env=env,
                                  capture_output=True, text=True, check=True)
            seconds = time.perf_counter() - started
            _, hwm = _peak_rss(daemon.pid)
            again = time.perf_counter()
            subprocess.run([*ws, "gc", "--grace", "0", "--json"], env=env,
                           capture_output=True, text=True, check=True)
            steady = time.perf_counter() - again
        finally:
            stop(daemon)
        result = json.loads(done.stdout)
        assert result["removed"] == unreferenced, (result["removed"], unreferenced)
        return {"objects": args.objects, "versions": args.versions, "removed": result["removed"],
                "gc_seconds": round(seconds, 2), "gc_again_seconds": round(steady, 2),
                "target_seconds": TARGET_SECONDS,
                "target_over_measured": round(TARGET_SECONDS / seconds, 2),
                "daemon_rss_before_mib": round(rss_before / 2**20, 1),
                "daemon_peak_rss_mib": round(hwm / 2**20, 1),
                "load_average": os.getloadavg()}
    finally:
        if not args.keep:
            remove_tree(scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--unreferenced", type=float, default=0.1,
                        help="share of objects no version references (default 0.1)")
    parser.add_argument("--scratch-parent", default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()

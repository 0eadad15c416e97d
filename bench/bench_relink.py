#!/usr/bin/env python3
"""The relink step of ``ws add``/``ws commit`` over many directories: before and after.

Run by hand (see bench/README.md). After the objects are durable, ingest
replaces every user file by a hardlink to its object, one directory fd per
directory. The old loop rebuilt a path -> item table for every directory,
so its cost grew with directories x files; the fix groups the items once.
This benchmark stages a tree of ``--dirs`` directories (10,000 by default)
into a real store, then times only that step, the old loop (kept below,
verbatim, as the reference) against the current one, alternating, on the
same files. Unlike the other benchmarks it imports the ``workspace``
package: the step cannot be isolated through the CLI.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workspace.store import ObjectStore, Staged
from workspace.workspaces import ingest as ingest_mod
from workspace.workspaces.ingest import (
    IngestOptions,
    Summary,
    _relink_all,
    _relink_one,
    _Staged,
    by_directory,
    open_group_dir,
)

Relink = Callable[[ObjectStore, int, list[_Staged], Summary], None]


def quadratic_relink_all(store: ObjectStore, base_fd: int, staged: list[_Staged],
                         summary: Summary) -> None:
    """The loop as it was before the fix (``wanted`` rebuilt inside the directory loop)."""
    todo = [s for s in staged if not (s.adopted and s.staged.new) and not s.stat.st_mode & 0o100]
    summary.linked += sum(1 for s in staged if s.adopted and s.staged.new)
    for directory, members in sorted(by_directory(s.relpath for s in todo).items()):
        wanted = {s.relpath: s for s in todo}
        with open_group_dir(base_fd, directory) as dir_fd:
            for relpath in members:
                _relink_one(store, dir_fd, wanted[relpath], summary)


def write_tree(root: Path, dirs: int, files: int) -> list[str]:
    paths = []
    for d in range(dirs):
        directory = root / f"d{d:05d}"
        directory.mkdir(parents=True)
        for f in range(files):
            (directory / f"f{f}.bin").write_bytes(os.urandom(32))
            paths.append(f"d{d:05d}/f{f}.bin")
    return paths


def stage(store: ObjectStore, base_fd: int, paths: list[str]) -> dict[str, str]:
    """Store every file (no relink); returns path -> object id."""
    options = IngestOptions(owner_uid=None, adopt=False, relink=False)
    report = ingest_mod.ingest(store, base_fd, paths, {}, options, lambda files, size: None)
    return {path: entry.oid for path, entry in report.manifest.items()}


def items_now(base: Path, oids: dict[str, str]) -> list[_Staged]:
    """The staged items as the relink step receives them, with each file's current stat.

    Taken afresh before every run, so every run relinks every file (a file
    whose stat changed since staging is skipped by design).
    """
    items = []
    for path, oid in oids.items():
        st = os.lstat(base / path)
        items.append(_Staged(path, Staged(oid, st.st_size, new=True), st, adopted=False))
    return items


def time_one(relink: Relink, store: ObjectStore, base: Path, oids: dict[str, str]) -> float:
    items = items_now(base, oids)
    summary = Summary()
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        start = time.perf_counter()
        relink(store, fd, items, summary)
        seconds = time.perf_counter() - start
    finally:
        os.close(fd)
    if summary.linked + summary.copied != len(items):
        raise SystemExit(f"relinked {summary.linked + summary.copied} of {len(items)} files")
    return seconds


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dirs", type=int, default=10_000, help="directories (default 10,000)")
    parser.add_argument("--files", type=int, default=1, help="files per directory (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--scratch-parent", type=Path, default=None,
                        help="where the scratch directory goes (default: the system temp dir)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="ws-bench-relink-", dir=args.scratch_parent))
    try:
        base = root / "data"
        paths = write_tree(base, args.dirs, args.files)
        with ObjectStore.open(root / "store") as store:
            fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
            try:
                oids = stage(store, fd, paths)
            finally:
                os.close(fd)
            before, after = [], []
            for _ in range(args.runs):
                before.append(time_one(quadratic_relink_all, store, base, oids))
                after.append(time_one(_relink_all, store, base, oids))
        old, new = statistics.median(before), statistics.median(after)
        print(f"data: {len(paths):,} files in {args.dirs:,} directories "
              f"({posixpath.basename(str(root))}); median of {args.runs} runs each")
        print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} "
              "(shared: read the ratio, not the absolute times)")
        print(f"relink, before the fix (table rebuilt per directory)  {old:8.3f} s")
        print(f"relink, after the fix (items grouped once)            {new:8.3f} s")
        print(f"before / after: {old / new:.1f}x")
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

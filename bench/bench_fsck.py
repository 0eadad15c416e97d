"""`ws fsck --read-data` against `b3sum` and `sha256sum` on the same objects (targets: >= 0.8x
b3sum's throughput, >= 2x sha256sum's).

The store is filled directly (objects named by their BLAKE3, 0444): 80% of
the bytes in 1 GiB files, 20% in 512 KiB files, 10 GiB by default. Every
file is read once before timing, so all three read from the page cache and
the comparison is of hashing, not of the disk (say so when quoting). Each
tool runs twice on the same file list; the faster run counts. `b3sum` is the
Debian package (`apt-get install b3sum`); without it, the blake3 Python
package is driven the same way (mmap, all threads, one file after another).

    python bench/bench_fsck.py               # 10 GiB
    python bench/bench_fsck.py --gib 2       # quick, or on a busy machine
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import blake3
from benchlib import GIB, MIB, log, remove_tree, stop, wait_healthy

from workspace.db import migrate
from workspace.store import ObjectStore

BIG = GIB
SMALL = 512 * 1024
CHUNK = 64 * MIB


def build(store_root: Path, total: int) -> list[Path]:
    """Objects of ``total`` bytes in the store; returns their paths."""
    big_count = max(1, int(total * 0.8) // BIG) if total >= 2 * BIG else 0
    big_size = BIG if big_count else 0
    small_count = (total - big_count * big_size) // SMALL
    paths = []
    with ObjectStore.open(store_root) as store:
        for index in range(big_count + small_count):
            size = big_size if index < big_count else SMALL
            paths.append(_write_object(store, store_root, index, size))
    return paths


def _write_object(store: ObjectStore, root: Path, index: int, size: int) -> Path:
    temp = root / "tmp" / f"bench-{index}"
    source = blake3.blake3(index.to_bytes(8, "little"))
    with open(temp, "wb") as handle:
        for offset in range(0, size, CHUNK):
            handle.write(source.digest(length=min(CHUNK, size - offset), seek=offset))
    oid = blake3.blake3(max_threads=blake3.blake3.AUTO).update_mmap(temp).hexdigest()
    final = store.object_path(oid)
    final.parent.mkdir(mode=0o700, exist_ok=True)
    temp.chmod(0o444)
    temp.rename(final)
    return final


def _warm(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(16 * MIB):
                pass


def _best_of_two(step: object) -> float:
    assert callable(step)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times)


def _tool(argv: list[str], paths: list[Path]) -> None:
    subprocess.run([*argv, *map(str, paths)], check=True, stdout=subprocess.DEVNULL)


def _python_b3(paths: list[Path]) -> None:
    for path in paths:
        blake3.blake3(max_threads=blake3.blake3.AUTO).update_mmap(path).hexdigest()


def run(args: argparse.Namespace) -> dict[str, object]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-fsck-", dir=args.scratch_parent))
    home = scratch / "home"
    home.mkdir(mode=0o700)
    try:
        total = int(args.gib * GIB)
        paths = build(home / "store", total)
        migrate(f"sqlite:///{home / 'workspace.db'}")
        log(f"{len(paths):,} objects, {total / GIB:.1f} GiB; warming the page cache")
        _warm(paths)
        env = {**os.environ, "WORKSPACE_HOME": str(home), "WORKSPACE_WATCH": "false",
               "WORKSPACE_SCRUB_INTERVAL": "0", "WORKSPACE_LOG_LEVEL": "warning"}
        ws = [sys.executable, "-m", "workspace.cli.main"]
        daemon = subprocess.Popen([*ws, "serve"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_healthy(daemon, home / "ws.sock")
            fsck = _best_of_two(lambda: subprocess.run(
                [*ws, "fsck", "--read-data", "--json"], env=env, check=True,
                stdout=subprocess.DEVNULL))
        finally:
            stop(daemon)
        b3sum = shutil.which("b3sum")
        b3 = _best_of_two(lambda: _tool([b3sum], paths) if b3sum else _python_b3(paths))
        sha = _best_of_two(lambda: _tool(["sha256sum"], paths))
        rate = {name: round(total / seconds / 1e9, 2)
                for name, seconds in (("ws_fsck", fsck), ("b3sum", b3), ("sha256sum", sha))}
        return {"gib": args.gib, "objects": len(paths), "seconds": {
                    "ws_fsck": round(fsck, 2), "b3sum": round(b3, 2), "sha256sum": round(sha, 2)},
                "gb_per_s": rate, "b3sum_tool": b3sum or "blake3 Python package (mmap, AUTO)",
                "fsck_vs_b3sum": round(b3 / fsck, 2), "fsck_vs_sha256sum": round(sha / fsck, 2),
                "targets": {"fsck_vs_b3sum": 0.8, "fsck_vs_sha256sum": 2.0},
                "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    finally:
        if not args.keep:
            remove_tree(scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=10.0)
    parser.add_argument("--scratch-parent", default=None)
    parser.add_argument("--keep", action="store_true")
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()

"""Shared steps of the gc, retention and fsck tests: a dataset with history, store access."""

from __future__ import annotations

import os
from pathlib import Path

import blake3
import sqlalchemy as sa

from tests.support.daemon import Daemon, give


def object_path(daemon: Daemon, oid: str) -> Path:
    return daemon.store / "objects" / oid[:2] / oid[2:]


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()  # a read-only link to the store: replace it, as `ws unlock` would
    path.write_bytes(data)


def three_versions(daemon: Daemon, project: Path, dataset: str = "vision/cats") -> list[str]:
    """data/ at versions 1..3, big.bin changing each time; returns big.bin's three oids."""
    data = project / "data"
    write(data / "same.txt", b"unchanged\n")
    oids = []
    for number in range(1, 4):
        write(data / "big.bin", os.urandom(64 * 1024) + bytes([number]))
        give(project, daemon.owner)
        if number == 1:
            daemon.ws("init", cwd=project)
            daemon.ws("add", "data", "-d", dataset, "-m", f"v{number}", cwd=project)
        else:
            daemon.ws("commit", "data", "-m", f"v{number}", cwd=project)
        oids.append(blake3.blake3((data / "big.bin").read_bytes()).hexdigest())
    return oids


def every_kept_object_is_intact(daemon: Daemon) -> int:
    """Every object named by an entry of a kept version exists and hashes to its name."""
    engine = sa.create_engine(daemon.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT DISTINCT e.oid FROM entries e JOIN versions v ON v.dataset_id = "
                "e.dataset_id AND v.number >= e.added_in AND (e.removed_in IS NULL OR "
                "v.number < e.removed_in) WHERE NOT EXISTS (SELECT 1 FROM pruned_versions p "
                "WHERE p.dataset_id = v.dataset_id AND p.number = v.number)")).scalars().all()
    finally:
        engine.dispose()
    for oid in rows:
        assert blake3.blake3(object_path(daemon, oid).read_bytes()).hexdigest() == oid, oid
    return len(rows)

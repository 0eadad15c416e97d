"""The benchmark's output: one row per operation, as a table or as JSON.

Both forms carry the same facts; the ratio is always the peer's time over
workspace's, measured in the same run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from benchlib import GIB


@dataclass(frozen=True, slots=True)
class Row:
    """One timed operation of both tools; ``ratio`` is dvc / workspace."""

    operation: str
    workspace_s: float
    dvc_s: float
    target: float

    @property
    def ratio(self) -> float:
        return self.dvc_s / self.workspace_s if self.workspace_s > 0 else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio >= self.target


def as_json(meta: dict[str, Any], rows: list[Row], disk: dict[str, int]) -> str:
    ops = [
        {
            "operation": r.operation,
            "workspace_s": round(r.workspace_s, 4),
            "dvc_s": round(r.dvc_s, 4),
            "ratio": round(r.ratio, 2),
            "target": r.target,
            "met": r.met,
        }
        for r in rows
    ]
    return json.dumps({**meta, "operations": ops, "disk": disk}, indent=2)


def as_table(meta: dict[str, Any], rows: list[Row], disk: dict[str, int]) -> str:
    head = ("operation", "workspace s", "dvc s", "x faster (dvc/ws)", "target", "met?")
    body = [
        (
            r.operation,
            f"{r.workspace_s:.3f}",
            f"{r.dvc_s:.3f}",
            f"{r.ratio:.2f}x",
            f"{r.target:g}x",
            "yes" if r.met else "NO",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    lines = [f"{k}: {v}" for k, v in meta.items()] + [""]
    lines += [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*line) for line in body]
    lines += ["", disk_line(disk)]
    return "\n".join(lines)


def disk_line(disk: dict[str, int]) -> str:
    """Bytes of two projects plus their cache, also as a count of copies of the data."""
    data = disk["dataset_bytes"]

    def amount(n: int) -> str:
        return f"{n / GIB:.3f} GiB = {n / data:.2f} copies of the data"

    return (
        "disk use, two projects holding the same data + the cache "
        "(du over all at once, a hardlinked inode counted once):\n"
        f"  workspace  {amount(disk['workspace_bytes'])}\n"
        f"  dvc        {amount(disk['dvc_bytes'])}\n"
        f"  (one copy of the data is {data / GIB:.3f} GiB)"
    )

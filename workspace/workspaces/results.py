"""Result shapes of workspace operations (turned into JSON by the API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from workspace.datasets.versions import VersionInfo
from workspace.db.models import TrackedPath, Workspace
from workspace.pointer import pointer_name
from workspace.workspaces.ingest import Summary


@dataclass(frozen=True, slots=True)
class TrackedInfo:
    workspace: str
    path: str
    dataset: str
    version: int
    kind: str


@dataclass(frozen=True, slots=True)
class PointerInfo:
    path: str
    dataset: str
    version: int
    digest: str
    files: int
    bytes: int


@dataclass(slots=True)
class OpResult:
    tracked: TrackedInfo
    pointer: PointerInfo
    summary: Summary
    version: VersionInfo | None = None
    unchanged: bool = False
    kept: list[str] = field(default_factory=list)


def tracked_info(workspace: Workspace, tracked: TrackedPath, dataset: str) -> TrackedInfo:
    return TrackedInfo(workspace.path, tracked.path, dataset, tracked.version, tracked.kind)


def pointer_info(tracked_path: str, version: VersionInfo) -> PointerInfo:
    return PointerInfo(pointer_name(tracked_path), version.dataset, version.number,
                       version.digest, version.files, version.bytes)

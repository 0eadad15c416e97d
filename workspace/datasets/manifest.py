"""Manifests: the files of one version, their digest, and the difference of two."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    path: str
    oid: str
    size: int
    executable: bool = False


Manifest = Mapping[str, ManifestEntry]


@dataclass(slots=True)
class Changes:
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.modified or self.deleted)

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "modified": len(self.modified),
                "deleted": len(self.deleted)}


def digest(entries: Iterable[ManifestEntry]) -> str:
    """A digest of the manifest: sha256 over sorted ``path NUL oid NUL size NUL x`` lines.

    Pointer files carry it so a checkout can tell that the server's version is
    the one git remembers.
    """
    hasher = hashlib.sha256()
    for entry in sorted(entries, key=lambda item: item.path):
        line = f"{entry.path}\0{entry.oid}\0{entry.size}\0{int(entry.executable)}\n"
        hasher.update(line.encode())
    return "sha256:" + hasher.hexdigest()


def compare(old: Manifest, new: Manifest) -> Changes:
    changes = Changes()
    for path, entry in new.items():
        before = old.get(path)
        if before is None:
            changes.added.append(path)
        elif (before.oid, before.executable) != (entry.oid, entry.executable):
            changes.modified.append(path)
    changes.deleted.extend(path for path in old if path not in new)
    for bucket in (changes.added, changes.modified, changes.deleted):
        bucket.sort()
    return changes

"""The remote layout: every key a remote holds, and the records stored under them.

    workspace-remote.json                     {"format": 1}: what this tree is
    objects/ab/<62 hex>                       one object (>= PACK_BELOW bytes), as stored
    packs/<id>.pack                           small objects, concatenated
    packs/<id>.idx                            its index, JSON: [[oid, offset, size], ...]
    datasets/<name>/_versions/<N:08>.json.gz  one version: who, when, why, git, full manifest
    datasets/<name>/_tags.json                {"tags": {TAG: N}}

Everything is content-addressed or immutable except ``_tags.json``. Writes
follow one order, so a reader never meets a reference to something absent:
objects and packs first, a pack's index after its pack (an index *publishes*
its pack; a pack without one is invisible), a version only once every object
it names is present, versions in increasing order, tags last. A ``_versions``
key is written create-only: a second, different version N (another server
pushed first) is a conflict, never an overwrite. Dataset name segments never
start with ``_``, so ``_versions`` and ``_tags.json`` cannot collide with a
nested dataset's name.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workspace.datasets.manifest import ManifestEntry
from workspace.errors import StoreCorrupt

FORMAT = 1
MARKER = "workspace-remote.json"
PACK_BELOW = 1024 * 1024
"""Objects smaller than this travel in packs: 10,000 files become a few requests."""
PACK_TARGET = 16 * 1024 * 1024
"""A pack is closed once it holds this many bytes."""
VERSIONS = "_versions"


def object_key(oid: str) -> str:
    return f"objects/{oid[:2]}/{oid[2:]}"


def pack_key(pack_id: str) -> str:
    return f"packs/{pack_id}.pack"


def index_key(pack_id: str) -> str:
    return f"packs/{pack_id}.idx"


def versions_prefix(dataset: str) -> str:
    return f"datasets/{dataset}/{VERSIONS}/"


def version_key(dataset: str, number: int) -> str:
    return f"{versions_prefix(dataset)}{number:08d}.json.gz"


def tags_key(dataset: str) -> str:
    return f"datasets/{dataset}/_tags.json"


def parse_version_key(key: str) -> tuple[str, int] | None:
    """(dataset, number) for a ``_versions`` key, else None."""
    head, sep, tail = key.partition(f"/{VERSIONS}/")
    if not sep or not head.startswith("datasets/") or not tail.endswith(".json.gz"):
        return None
    number = tail.removesuffix(".json.gz")
    return (head.removeprefix("datasets/"), int(number)) if number.isdigit() else None


def parse_object_key(key: str) -> str | None:
    parts = key.split("/")
    if len(parts) == 3 and parts[0] == "objects" and len(parts[1]) == 2:
        return parts[1] + parts[2]
    return None


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """One version as the remote keeps it: enough to rebuild it with its history."""

    dataset: str
    kind: str  # "dir" or "file", as the dataset was created
    number: int
    author: str
    created_at: datetime
    message: str
    digest: str
    git: dict[str, Any] | None
    manifest: tuple[ManifestEntry, ...]

    def identity(self) -> tuple[Any, ...]:
        """What makes two versions the same version (not just the same data)."""
        return (self.number, self.author, self.created_at.isoformat(), self.message, self.digest)

    def encode(self) -> bytes:
        body = {
            "format": FORMAT, "dataset": self.dataset, "kind": self.kind, "number": self.number,
            "author": self.author, "created_at": self.created_at.isoformat(),
            "message": self.message, "digest": self.digest, "git": self.git,
            "files": len(self.manifest), "bytes": sum(e.size for e in self.manifest),
            "manifest": [[e.path, e.oid, e.size, e.executable] for e in self.manifest],
        }
        return gzip.compress(json.dumps(body, separators=(",", ":")).encode(), mtime=0)

    @classmethod
    def decode(cls, data: bytes, where: str) -> VersionRecord:
        try:
            body = json.loads(gzip.decompress(data))
            return cls(
                body["dataset"], str(body.get("kind", "dir")), int(body["number"]),
                str(body["author"]),
                datetime.fromisoformat(body["created_at"]), str(body["message"]),
                str(body["digest"]), body.get("git"),
                tuple(ManifestEntry(str(p), str(o), int(s), bool(x))
                      for p, o, s, x in body["manifest"]))
        except (OSError, ValueError, KeyError, TypeError, EOFError) as exc:
            raise unreadable(where, exc) from None


def encode_index(entries: Sequence[tuple[str, int, int]]) -> bytes:
    return json.dumps({"format": FORMAT, "objects": [list(e) for e in entries]},
                      separators=(",", ":")).encode()


def decode_index(data: bytes, where: str) -> list[tuple[str, int, int]]:
    try:
        return [(str(o), int(off), int(size)) for o, off, size in json.loads(data)["objects"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise unreadable(where, exc) from None


def encode_tags(tags: dict[str, int]) -> bytes:
    return json.dumps({"format": FORMAT, "tags": tags}, sort_keys=True).encode()


def decode_tags(data: bytes | None, where: str) -> dict[str, int]:
    if data is None:
        return {}
    try:
        return {str(k): int(v) for k, v in json.loads(data)["tags"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise unreadable(where, exc) from None


def marker() -> bytes:
    return json.dumps({"format": FORMAT, "kind": "workspace remote"}).encode()


def unreadable(where: str, exc: Exception) -> StoreCorrupt:
    return StoreCorrupt(f"{where} on the remote is unreadable ({type(exc).__name__}: {exc})",
                        hint="the remote was changed by hand or damaged; push again from a "
                        "server that has the data", details={"key": where})

"""What a remote holds: its objects (loose and packed) and its datasets' versions.

Only published things count: a pack is part of the remote once its index is
(see ``layout.py``); a pack without one, left by an interrupted push, is
ignored and never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from workspace.remotes import layout
from workspace.remotes.backend import Backend


@dataclass(frozen=True, slots=True)
class Packed:
    pack: str
    offset: int
    size: int


@dataclass
class Inventory:
    """The objects a remote holds: loose ones by size, packed ones by place."""

    loose: dict[str, int] = field(default_factory=dict)
    packed: dict[str, Packed] = field(default_factory=dict)

    def has(self, oid: str) -> bool:
        return oid in self.loose or oid in self.packed

    def __len__(self) -> int:
        return len(self.loose.keys() | self.packed.keys())


def objects(backend: Backend, concurrency: int) -> Inventory:
    """List loose objects and read every pack index (in parallel)."""
    found = Inventory()
    for key, size in backend.list("objects/"):
        oid = layout.parse_object_key(key)
        if oid is not None:
            found.loose[oid] = size
    packs = [key.removeprefix("packs/").removesuffix(".idx")
             for key, _ in backend.list("packs/") if key.endswith(".idx")]
    with ThreadPoolExecutor(max(1, min(concurrency, len(packs) or 1))) as pool:
        for pack, entries in zip(packs, pool.map(lambda p: _index(backend, p), packs),
                                 strict=True):
            for oid, offset, size in entries:
                found.packed.setdefault(oid, Packed(pack, offset, size))
    return found


def _index(backend: Backend, pack: str) -> list[tuple[str, int, int]]:
    key = layout.index_key(pack)
    data = backend.get_bytes(key)
    return [] if data is None else layout.decode_index(data, key)


def version_numbers(backend: Backend, dataset: str) -> list[int]:
    """The version numbers the remote has of ``dataset``, ascending."""
    numbers = []
    for key, _ in backend.list(layout.versions_prefix(dataset)):
        parsed = layout.parse_version_key(key)
        if parsed is not None and parsed[0] == dataset:
            numbers.append(parsed[1])
    return sorted(numbers)


def datasets(backend: Backend) -> dict[str, list[int]]:
    """Every dataset on the remote with its version numbers."""
    found: dict[str, list[int]] = {}
    for key, _ in backend.list("datasets/"):
        parsed = layout.parse_version_key(key)
        if parsed is not None:
            found.setdefault(parsed[0], []).append(parsed[1])
    return {name: sorted(numbers) for name, numbers in sorted(found.items())}


def read_versions(backend: Backend, dataset: str, numbers: Iterable[int],
                  concurrency: int) -> list[layout.VersionRecord]:
    """The records of the given versions, in order; a missing one is an error."""
    wanted = sorted(numbers)

    def read(number: int) -> layout.VersionRecord:
        key = layout.version_key(dataset, number)
        data = backend.get_bytes(key)
        if data is None:
            raise layout.unreadable(key, FileNotFoundError("missing"))
        return layout.VersionRecord.decode(data, key)

    with ThreadPoolExecutor(max(1, min(concurrency, len(wanted) or 1))) as pool:
        return list(pool.map(read, wanted))

"""``ws blame --lines``: who introduced each line of a text file, with a per-version cache.

The blame of a file at version N equals its blame at the last version that
changed it, and versions never change, so results are cached on disk under
that key and extended from the previous change with one diff
(``lineblame.incremental``) when the next version is asked for.
"""

from __future__ import annotations

import array
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workspace.datasets import lineblame
from workspace.datasets.availability import resolve_usable
from workspace.datasets.versions import version_table
from workspace.db.models import Entry
from workspace.db.queries import datasets as q
from workspace.errors import NotFound, WorkspaceError
from workspace.refs import Ref
from workspace.store import ObjectStore


class LineBlameCache:
    """Blame lists on disk, one file per (dataset, path, version); safe to delete any time."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, dataset_id: int, path: str, version: int) -> list[int] | None:
        try:
            raw = self._file(dataset_id, path, version).read_bytes()
        except FileNotFoundError:
            return None
        return array.array("I", raw).tolist()

    def put(self, dataset_id: int, path: str, version: int, blame: list[int]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = self._file(dataset_id, path, version)
        temp = target.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(array.array("I", blame).tobytes())
        temp.replace(target)

    def _file(self, dataset_id: int, path: str, version: int) -> Path:
        key = hashlib.sha256(f"{dataset_id}\0{path}\0{version}".encode()).hexdigest()[:32]
        return self.directory / f"{key}.blame"


def line_blame(session: Session, store: ObjectStore, cache: LineBlameCache | None,
               ref: Ref, path: str) -> dict[str, Any]:
    dataset, version = resolve_usable(session, ref, store.store_id)
    history = [e for e in q.path_history(session, dataset.id, path)
               if e.added_in <= version.number]
    if not history or not _live(history[-1], version.number):
        raise NotFound(f"{path} is not in {dataset.name}@{version.number}",
                       hint=f"`ws ls {dataset.name}@{version.number}` lists its files")
    content = _read(store, history[-1].oid)
    blame = _blame(store, cache, dataset.id, path, history, content)
    lines = _lines(content)
    if len(lines) != len(blame):
        raise WorkspaceError(f"line blame of {path} does not match its content",
                             hint="delete $WORKSPACE_HOME/cache/lineblame and ask again")
    # Two parallel arrays, not one object per line: 100,000 small dicts took most of
    # a cached answer's time to serialize.
    return {"dataset": dataset.name, "version": version.number, "path": path,
            "versions": version_table(session, dataset.id, set(blame)),
            "line_versions": blame, "lines": lines}


def _blame(store: ObjectStore, cache: LineBlameCache | None, dataset_id: int, path: str,
           history: Sequence[Entry], content: bytes) -> list[int]:
    last = history[-1].added_in
    cached = cache.get(dataset_id, path, last) if cache else None
    if cached is not None:
        return cached
    blame = _from_previous(store, cache, dataset_id, path, history, content)
    if blame is None:
        blame = lineblame.blame_lines(_contents(store, history), source=path)
    if cache is not None:
        cache.put(dataset_id, path, last, blame)
    return blame


def _from_previous(store: ObjectStore, cache: LineBlameCache | None, dataset_id: int,
                   path: str, history: Sequence[Entry], content: bytes) -> list[int] | None:
    """One diff on top of the cached blame of the previous change, when there is one."""
    if cache is None or len(history) < 2 or history[-2].removed_in != history[-1].added_in:
        return None
    previous = cache.get(dataset_id, path, history[-2].added_in)
    if previous is None or not store.exists(history[-2].oid):
        return None
    old = _read(store, history[-2].oid)
    return lineblame.incremental(previous, old, content, history[-1].added_in, source=path)


def _contents(store: ObjectStore, history: Sequence[Entry]) -> list[tuple[int, bytes]]:
    """Each change oldest first; a deletion before a re-add counts as emptying the file.

    Changes older than an object gc has taken (its versions were pruned) are left
    out: their lines are credited to the oldest change still stored.
    """
    gone = [i for i, entry in enumerate(history[:-1]) if not store.exists(entry.oid)]
    if gone:
        history = history[gone[-1] + 1:]
    sequence: list[tuple[int, bytes]] = []
    for before, entry in zip([None, *history[:-1]], history, strict=True):
        if before is not None and before.removed_in != entry.added_in:
            assert before.removed_in is not None
            sequence.append((before.removed_in, b""))
        sequence.append((entry.added_in, _read(store, entry.oid)))
    return sequence


def _lines(content: bytes) -> list[str]:
    lines = content.split(b"\n")
    if content.endswith(b"\n") or not content:
        lines.pop()
    return [line.decode("utf-8", errors="replace") for line in lines]


def _live(entry: Entry, number: int) -> bool:
    return entry.removed_in is None or entry.removed_in > number


def _read(store: ObjectStore, oid: str) -> bytes:
    fd = store.open_object(oid)
    try:
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)

"""Reading one file of a dataset version (the Python API's reads), audited.

The daemon checks the caller may read the dataset (api/), then this resolves
the reference and the path to the file's object and records the read in the
audit log (``dataset:file:read``) in the same step: who read which bytes of
which version, and how they got them (an fd passed over the socket, or a
stream). Reads are recorded because data access is what an audit of a
dataset is for; listings are not (``ls`` reveals names, not contents).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets.versions import resolve
from workspace.db.queries import datasets as q
from workspace.errors import NotFound
from workspace.refs import Ref


@dataclass(frozen=True, slots=True)
class FileInfo:
    dataset: str
    version: int
    path: str
    oid: str
    size: int
    executable: bool


def locate(session: Session, ref: Ref, path: str) -> FileInfo:
    """The file at ``path`` in the version ``ref`` names (NotFound says what exists)."""
    dataset, version = resolve(session, ref)
    clean = path.strip("/")
    row = q.entry_at(session, dataset.id, version.number, clean)
    if row is None:
        raise NotFound(f"{clean} is not a file of {dataset.name}@{version.number}",
                       hint=f"`ws ls {dataset.name}@{version.number}` lists its files")
    return FileInfo(dataset.name, version.number, row.path, row.oid, row.size, row.executable)


def read(session: Session, caller: Caller, ref: Ref, path: str, *, how: str,
         byte_range: tuple[int, int] | None = None) -> FileInfo:
    """``locate``, and record that ``caller`` reads it (``how``: ``fd`` or ``stream``;
    ``byte_range``: the first and last byte of a partial read)."""
    found = locate(session, ref, path)
    detail: dict[str, Any] = {"size": found.size, "how": how}
    if byte_range is not None:
        detail["range"] = list(byte_range)
    record(session, actor=caller.name, action=Action.DATASET_FILE_READ, dataset=found.dataset,
           version=found.version, path=found.path, detail=detail)
    return found

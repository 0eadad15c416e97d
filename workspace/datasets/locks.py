"""File locks, enforced by the daemon: a commit that changes a path someone else holds fails.

Git LFS locks are advisory (only its client checks them); here the daemon
records every version, so it can refuse one. A lock is on (dataset, path in
the dataset) and has one holder. Taking locks is all or nothing: if any path
is held by someone else, nothing is taken and the answer names the holder
and since when. Releasing someone else's lock is *breaking* it (admins only,
checked before this runs): it is audited, and the holder gets a notice with
their next request.

Locks, commits and alias moves of one dataset serialize on its row (a row
lock on PostgreSQL; SQLite has one writer), so a lock taken while a commit is
being recorded is either seen by it or taken after it.
"""

from __future__ import annotations

import posixpath
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller, notices
from workspace.db.base import utcnow
from workspace.db.models import Dataset
from workspace.db.models_locks import Lock
from workspace.db.queries import datasets as q
from workspace.db.queries import locks as lq
from workspace.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True, slots=True)
class LockInfo:
    dataset: str
    path: str
    holder: str
    since: datetime


def take(session: Session, caller: Caller, *, dataset: str, paths: Sequence[str]) -> dict[str, Any]:
    """Lock ``paths`` (files, or directories: every file below) at the dataset's latest version."""
    found = _locked_dataset(session, dataset)
    wanted = expand(session, found, [normalize(p, allow_root=True) for p in paths])
    existing = lq.on_paths(session, found.id, wanted)
    others = [lock for lock in existing if lock.user_id != caller.user_id]
    if others:
        raise _held(session, found, others, "nothing was locked")
    mine = {lock.path for lock in existing}
    new = [Lock(dataset_id=found.id, path=p, user_id=caller.user_id, created_at=utcnow())
           for p in wanted if p not in mine]
    lq.add(session, new)
    if new:
        record(session, actor=caller.name, action=Action.DATASET_LOCK_CREATE,
               dataset=found.name, detail={"paths": [lock.path for lock in new]})
    return {"dataset": found.name, "taken": len(new), "already_held": len(mine),
            "locks": _infos(session, found, [*existing, *new])}


def release(session: Session, caller: Caller, *, dataset: str, paths: Sequence[str],
            force: bool = False) -> dict[str, Any]:
    """Release the caller's locks on ``paths`` (or below them); ``force`` breaks others'."""
    found = _locked_dataset(session, dataset)
    chosen = _locks_under(session, found, [normalize(p, allow_root=True) for p in paths],
                          caller, force=force)
    others = [lock for lock in chosen if lock.user_id != caller.user_id]
    if others and not force:
        raise _held(session, found, others, "nothing was released",
                    hint="an admin can break it: `ws lock --release --force`")
    mine = [lock for lock in chosen if lock.user_id == caller.user_id]
    released, broken = _infos(session, found, mine), _infos(session, found, others)
    lq.remove(session, [lock.id for lock in chosen])
    if mine:
        record(session, actor=caller.name, action=Action.DATASET_LOCK_RELEASE,
               dataset=found.name, detail={"paths": [lock.path for lock in mine]})
    if others:
        _record_break(session, caller, found, others, broken)
    return {"dataset": found.name, "released": released, "broken": broken}


def listed(session: Session, dataset: str | None = None) -> list[LockInfo]:
    """Every lock, or a dataset's, by dataset and path."""
    dataset_id = None
    if dataset is not None:
        found = q.dataset_by_name(session, dataset)
        if found is None:
            raise NotFound(f"dataset {dataset} does not exist",
                           hint="`ws datasets` lists the datasets")
        dataset_id = found.id
    rows = lq.listed(session, dataset_id)
    users = q.user_names(session, {lock.user_id for lock, _ in rows})
    return [LockInfo(name, lock.path, users.get(lock.user_id, "?"), lock.created_at)
            for lock, name in rows]


def refuse_locked_by_others(session: Session, dataset: Dataset, caller: Caller,
                            paths: Sequence[str]) -> None:
    """Conflict naming holders if someone other than ``caller`` holds any of ``paths``."""
    others = [lock for lock in lq.on_paths(session, dataset.id, paths)
              if lock.user_id != caller.user_id]
    if others:
        raise _held(session, dataset, others, "nothing was committed",
                    hint="ask the holder to commit and release it (`ws lock --release`), or an "
                    f"admin to break it; `ws locks {dataset.name}` lists the locks")


def expand(session: Session, dataset: Dataset, paths: Sequence[str]) -> list[str]:
    """Each path as the files it names at the latest version: itself, or every file below
    it (``""``: all). A path that names nothing is refused: lock what exists."""
    files = sorted(entry.path for entry in q.live_entries(session, dataset.id))
    chosen: dict[str, None] = {}
    for path in paths:
        below = _files_at(files, path)
        if not below:
            raise NotFound(f"{path} is not in the latest version of {dataset.name}",
                           hint=f"`ws ls {dataset.name}` lists its files")
        chosen.update(dict.fromkeys(below))
    return list(chosen)


def _files_at(files: list[str], path: str) -> list[str]:
    """``path`` if it is a file of the sorted ``files``, else the files below it."""
    if not path:
        return files
    at = bisect_left(files, path)
    if at < len(files) and files[at] == path:
        return [path]
    prefix = path + "/"
    start = bisect_left(files, prefix)
    end = bisect_left(files, prefix[:-1] + chr(ord("/") + 1))
    return files[start:end]


def normalize(path: str, *, allow_root: bool = False) -> str:
    """A path in a dataset: relative, ``/``-separated, no ``.``/``..``/empty component."""
    clean = path.strip("/")
    if not clean and allow_root:
        return ""
    if not clean or "\0" in clean or posixpath.normpath(clean) != clean or clean.startswith(".."):
        raise InvalidInput(f"{path!r} is not a path in a dataset",
                           hint="give it relative to the dataset's root, e.g. labels/train.csv")
    return clean


def _record_break(session: Session, caller: Caller, dataset: Dataset, locks: Sequence[Lock],
                  broken: Sequence[LockInfo]) -> None:
    holders = sorted({b.holder for b in broken})
    record(session, actor=caller.name, action=Action.DATASET_LOCK_BREAK, dataset=dataset.name,
           detail={"paths": [b.path for b in broken], "holders": holders})
    by_holder: dict[int, list[str]] = {}
    for lock in locks:
        by_holder.setdefault(lock.user_id, []).append(lock.path)
    for user_id, paths in by_holder.items():
        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        notices.notify(session, user_id, f"{caller.name} broke your lock on {shown} in "
                       f"{dataset.name} at {utcnow():%Y-%m-%d %H:%M} UTC; `ws locks "
                       f"{dataset.name}` shows who holds what now")


def _locks_under(session: Session, dataset: Dataset, paths: Sequence[str], caller: Caller,
                 *, force: bool) -> list[Lock]:
    """The locks ``paths`` name: a file's lock, whoever holds it; below a directory, the
    caller's own (and, with ``force``, everyone's)."""
    chosen: dict[int, Lock] = {}
    for path in paths:
        found = [lock for lock in lq.under(session, dataset.id, path)
                 if lock.path == path or force or lock.user_id == caller.user_id]
        if not found:
            raise NotFound(f"you hold no lock at {path or 'the root'} of {dataset.name}",
                           hint=f"`ws locks {dataset.name}` lists the locks")
        chosen.update({lock.id: lock for lock in found})
    return list(chosen.values())


def _held(session: Session, dataset: Dataset, locks: Sequence[Lock], outcome: str,
          hint: str | None = None) -> Conflict:
    infos = _infos(session, dataset, locks)
    first = infos[0]
    more = f" (and {len(infos) - 1} more locked paths)" if len(infos) > 1 else ""
    return Conflict(
        f"{first.path} in {dataset.name} is locked by {first.holder} since "
        f"{first.since:%Y-%m-%d %H:%M} UTC{more}; {outcome}",
        hint=hint or f"ask {first.holder} to release it, or an admin to break it",
        details={"locked": [{"path": i.path, "holder": i.holder, "since": i.since.isoformat()}
                            for i in infos[:100]]})


def _infos(session: Session, dataset: Dataset, locks: Sequence[Lock]) -> list[LockInfo]:
    users = q.user_names(session, {lock.user_id for lock in locks})
    return sorted((LockInfo(dataset.name, lock.path, users.get(lock.user_id, "?"),
                            lock.created_at) for lock in locks), key=lambda i: i.path)


def _locked_dataset(session: Session, name: str) -> Dataset:
    found = q.dataset_by_name(session, name, lock=True)
    if found is None or found.latest == 0:
        raise NotFound(f"dataset {name} does not exist", hint="`ws datasets` lists the datasets")
    return found

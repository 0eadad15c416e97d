"""Read views of datasets: list, ls, log, per-path log, diff, blame; and tagging.

Every view is one or two indexed queries (see ``db/models.py`` on entries);
nothing replays history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets.availability import damaged_versions, resolve_kept, resolve_usable
from workspace.datasets.manifest import compare
from workspace.datasets.versions import (
    VersionInfo,
    describe,
    manifest_at,
    resolve,
    version_info,
    version_table,
)
from workspace.db.models import Entry
from workspace.db.queries import aliases as aq
from workspace.db.queries import datasets as q
from workspace.db.queries import upkeep as uq
from workspace.errors import Conflict, NotFound
from workspace.refs import Ref, validate_tag


@dataclass(frozen=True, slots=True)
class PathChange:
    version: int
    change: str
    oid: str | None
    size: int | None
    author: str
    created_at: datetime
    message: str
    pruned: bool = False


@dataclass(frozen=True, slots=True)
class DirChange:
    """One version that changed files under a directory: how, and what it then held."""

    version: int
    change: str  # the directory as a whole: added (was empty), deleted (now empty), modified
    added: int  # files under it added, modified and deleted by this version
    modified: int
    deleted: int
    files: int  # files and bytes under it after this version
    size: int
    author: str
    created_at: datetime
    message: str


def list_datasets(session: Session) -> list[VersionInfo]:
    """Each dataset with its newest kept version; removed datasets (all pruned) are left out."""
    pairs = _newest_kept(session, q.latest_versions(session))
    authors = q.user_names(session, [version.author_id for _, version in pairs])
    return [
        version_info(dataset.name, version, authors.get(version.author_id, "?"),
                     q.tags_by_version(session, dataset.id).get(version.number, []),
                     aq.by_version(session, dataset.id).get(version.number, []))
        for dataset, version in pairs
    ]


def _newest_kept(session: Session, pairs: Any) -> list[Any]:
    pruned = uq.pruned_numbers(session)
    kept = []
    for dataset, version in pairs:
        if version.number in pruned.get(dataset.id, ()):
            number = uq.latest_kept(session, dataset.id)
            if number is None:
                continue
            version = q.version(session, dataset.id, number)
        kept.append((dataset, version))
    return kept


def list_files(session: Session, ref: Ref, prefix: str | None, store_id: str) -> dict[str, Any]:
    dataset, version = resolve_usable(session, ref, store_id)
    entries = q.entries_at(session, dataset.id, version.number, prefix)
    return {"dataset": dataset.name, "version": version.number,
            "files": [_file(e) for e in entries]}


def log(session: Session, ref: Ref, store_id: str) -> dict[str, Any]:
    """Every version, pruned ones included (marked, with who and when), newest first."""
    dataset, _ = resolve(session, Ref(ref.dataset))
    versions = q.versions(session, dataset.id)
    authors = q.user_names(session, {v.author_id for v in versions})
    tags, named = q.tags_by_version(session, dataset.id), aq.by_version(session, dataset.id)
    pruned = uq.pruned_info(session, dataset.id)
    damaged = damaged_versions(session, store_id, dataset.id)
    infos = [replace(version_info(dataset.name, v, authors.get(v.author_id, "?"),
                                  tags.get(v.number, []), named.get(v.number, [])),
                     pruned=pruned.get(v.number), damaged=damaged.get(v.number))
             for v in versions]
    return {"dataset": dataset.name, "versions": infos}


def path_log(session: Session, dataset_name: str, path: str) -> dict[str, Any]:
    """Every version that added, modified or deleted ``path`` (a file, or any file
    under a directory), newest first."""
    dataset, _ = resolve(session, Ref(dataset_name))
    entries = q.path_history(session, dataset.id, path)
    if entries:
        return {"dataset": dataset.name, "path": path, "kind": "file",
                "changes": _file_changes(session, dataset.id, entries)}
    under = q.history_under(session, dataset.id, path + "/")
    if not under:
        raise NotFound(f"{path} was never part of {dataset_name}",
                       hint=f"`ws ls {dataset_name}` lists its files")
    return {"dataset": dataset.name, "path": path, "kind": "dir",
            "changes": _dir_changes(session, dataset.id, under)}


def _file_changes(session: Session, dataset_id: int, entries: Any) -> list[PathChange]:
    numbers = {e.added_in for e in entries} | {e.removed_in for e in entries if e.removed_in}
    versions, authors = _versions(session, dataset_id, numbers)
    pruned = set(uq.pruned_numbers(session, dataset_id).get(dataset_id, ()))
    changes = []
    for kind, number, entry in _path_events(entries):
        v = versions[number]
        changes.append(PathChange(number, kind, entry.oid if kind != "deleted" else None,
                                  entry.size if kind != "deleted" else None,
                                  authors.get(v.author_id, "?"), v.created_at, v.message,
                                  number in pruned))
    changes.reverse()
    return changes


def _dir_changes(session: Session, dataset_id: int, rows: Any) -> list[DirChange]:
    """Per version: the files under the directory that started and ended there (a
    modification does both), and the running file count and size."""
    starts: dict[int, dict[str, int]] = defaultdict(dict)
    ends: dict[int, dict[str, int]] = defaultdict(dict)
    for row in rows:
        starts[row.added_in][row.path] = row.size
        if row.removed_in is not None:
            ends[row.removed_in][row.path] = row.size
    numbers = sorted(starts.keys() | ends.keys())
    versions, authors = _versions(session, dataset_id, set(numbers))
    files = size = 0
    changes = []
    for number in numbers:
        began, ended = starts.get(number, {}), ends.get(number, {})
        modified = len(began.keys() & ended.keys())
        before, files = files, files + len(began) - len(ended)
        size += sum(began.values()) - sum(ended.values())
        change = "added" if before == 0 else "deleted" if files == 0 else "modified"
        v = versions[number]
        changes.append(DirChange(number, change, len(began) - modified, modified,
                                 len(ended) - modified, files, size,
                                 authors.get(v.author_id, "?"), v.created_at, v.message))
    changes.reverse()
    return changes


def _versions(session: Session, dataset_id: int,
              numbers: set[int]) -> tuple[dict[int, Any], dict[int, str]]:
    versions = {v.number: v for v in q.versions_numbered(session, dataset_id, numbers)}
    return versions, q.user_names(session, {v.author_id for v in versions.values()})


def diff(session: Session, a: Ref, b: Ref) -> dict[str, Any]:
    dataset_a, version_a = resolve_kept(session, a)
    dataset_b, version_b = resolve_kept(session, b)
    old = manifest_at(session, dataset_a.id, version_a.number)
    new = manifest_at(session, dataset_b.id, version_b.number)
    changes = compare(old, new)
    return {
        "a": {"dataset": dataset_a.name, "version": version_a.number},
        "b": {"dataset": dataset_b.name, "version": version_b.number},
        "added": [{"path": p, "oid": new[p].oid, "size": new[p].size} for p in changes.added],
        "modified": [{"path": p, "old_oid": old[p].oid, "new_oid": new[p].oid,
                      "old_size": old[p].size, "new_size": new[p].size}
                     for p in changes.modified],
        "deleted": [{"path": p, "oid": old[p].oid, "size": old[p].size} for p in changes.deleted],
    }


def blame(session: Session, ref: Ref, prefix: str | None, store_id: str, *,
          oids: bool = True) -> dict[str, Any]:
    """Who last changed each file, as columns: ``paths``, ``path_versions`` (the version
    that last changed each), ``oids`` (unless ``oids`` is false: a table of who changed
    what does not show them, and they are half the answer), ``sizes``, and ``versions``
    describing each version named once (``pruned``: a change made in a since-pruned
    version). 100,000 files are a few lists of strings and numbers, not 100,000 objects,
    to build, send and read."""
    dataset, version = resolve_usable(session, ref, store_id)
    rows = q.blame_rows(session, dataset.id, version.number, prefix, oids=oids)
    columns = _blame_columns(rows, oids=oids)
    pruned = set(uq.pruned_numbers(session, dataset.id).get(dataset.id, ()))
    versions = version_table(session, dataset.id, set(columns["path_versions"]))
    for number, described in versions.items():
        described["pruned"] = int(number) in pruned
    return {"dataset": dataset.name, "version": version.number,
            "aliases": aq.by_version(session, dataset.id).get(version.number, []),
            "versions": versions, **columns}


def _blame_columns(rows: list[tuple[Any, ...]], *, oids: bool) -> dict[str, list[Any]]:
    """Rows of (path, size, added_in[, oid]) as the answer's columns, in its key order."""
    # a comprehension per column: zip(*rows) took 3x as long, mostly in the collector
    columns = {"paths": [row[0] for row in rows], "path_versions": [row[2] for row in rows]}
    if oids:
        columns["oids"] = [row[3] for row in rows]
    columns["sizes"] = [row[1] for row in rows]
    return columns


def tag(session: Session, caller: Caller, ref: Ref, name: str) -> dict[str, Any]:
    validate_tag(name)
    q.dataset_by_name(session, ref.dataset, lock=True)  # tags and alias moves serialize
    dataset, version = resolve_kept(session, ref)
    _refuse_alias_name(session, dataset.id, dataset.name, name)
    existing = q.tag_target(session, dataset.id, name)
    if existing is not None:
        raise Conflict(f"{dataset.name} already has tag {name} (version {existing})",
                       hint="tags are immutable: choose another name")
    try:
        with session.begin_nested():
            q.add_tag(session, dataset_id=dataset.id, name=name, version=version.number,
                      user_id=caller.user_id)
    except IntegrityError as exc:
        raise Conflict(f"{dataset.name} already has tag {name}") from exc
    record(session, actor=caller.name, action=Action.DATASET_TAG_CREATE, dataset=dataset.name,
           version=version.number, detail={"tag": name})
    return {"dataset": dataset.name, "tag": name, "version": version.number,
            "version_info": describe(session, dataset, version)}


def _refuse_alias_name(session: Session, dataset_id: int, dataset: str, name: str) -> None:
    if aq.target(session, dataset_id, name) is not None:
        raise Conflict(f"{name} is an alias of {dataset}",
                       hint="tags and aliases share names, so that DATASET@NAME means one "
                       "thing: choose another tag name")


def _path_events(entries: list[Entry] | Any) -> list[tuple[str, int, Entry]]:
    """Turn a path's entries (oldest first) into added/modified/deleted events."""
    events: list[tuple[str, int, Entry]] = []
    previous_end: int | None = None
    for entry in entries:
        kind = "modified" if previous_end == entry.added_in else "added"
        if previous_end is not None and previous_end != entry.added_in:
            events.append(("deleted", previous_end, entry))
        events.append((kind, entry.added_in, entry))
        previous_end = entry.removed_in
    if previous_end is not None:
        events.append(("deleted", previous_end, entries[-1]))
    return events


def _file(entry: Any) -> dict[str, Any]:
    return {"path": entry.path, "oid": entry.oid, "size": entry.size,
            "executable": entry.executable}

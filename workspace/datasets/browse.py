"""Browsing large datasets a page at a time: files, versions, and the changes between two.

The dashboard's views. Every answer costs what it shows, not what the
dataset holds: a page of a 100,000-file version is one keyset range of the
entries index (a search: one pass over the paths, then one page by name),
and the difference of two versions of one dataset reads only
the entries that start or end between them (``history.diff`` compares two
whole manifests, which is right for the CLI's full answer and too slow for a
page).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.datasets.availability import resolve_kept
from workspace.datasets.manifest import ManifestEntry
from workspace.datasets.versions import VersionInfo, describe, manifest_at, resolve, version_info
from workspace.db.queries import browse as q
from workspace.db.queries import datasets as dq
from workspace.errors import InvalidInput
from workspace.refs import Ref

PAGE = 100
MAX_SEARCH = 200
Fields = tuple[str, int, bool]  # (oid, size, executable)
Side = dict[str, Fields]  # path -> fields: one side of a diff
Found = tuple[str, str, Fields | None, Fields | None]  # (path, kind, old, new)


@dataclass(frozen=True, slots=True)
class FileRow:
    """A file of a version, with the version that last changed it (its blame)."""

    path: str
    oid: str
    size: int
    executable: bool
    changed_in: int
    author: str
    changed_at: datetime
    message: str


@dataclass(frozen=True, slots=True)
class FilesPage:
    version: VersionInfo
    files: list[FileRow]
    search: str | None
    matches: int
    has_previous: bool
    has_next: bool


@dataclass(frozen=True, slots=True)
class VersionsPage:
    dataset: str
    latest: int
    versions: list[VersionInfo]
    next_below: int | None  # the ``below`` of the next (older) page, if there is one


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: str  # added | modified | deleted
    old: ManifestEntry | None
    new: ManifestEntry | None


@dataclass(frozen=True, slots=True)
class DiffPage:
    a: VersionInfo
    b: VersionInfo
    counts: dict[str, int]
    changes: list[Change]  # the first ``limit``, in path order
    truncated: bool


def files_page(session: Session, ref: Ref, *, search: str | None = None,
               after: str | None = None, before: str | None = None,
               limit: int = PAGE) -> FilesPage:
    """One page of a version's files (``after``/``before`` a path), optionally only those
    whose path contains ``search`` (case-insensitive)."""
    search = _search(search)
    dataset, version = resolve_kept(session, ref)  # a pruned version is not browsed
    if search:
        rows, matches, has_previous, has_next = _searched(
            session, dataset.id, version.number, search, after, before, limit)
    else:
        rows, has_previous, has_next = _keyset(session, dataset.id, version.number,
                                               after, before, limit)
        matches = version.file_count
    return FilesPage(describe(session, dataset, version), [_file(r) for r in rows], search,
                     matches, has_previous, has_next)


def _keyset(session: Session, dataset_id: int, number: int, after: str | None,
            before: str | None, limit: int) -> tuple[list[Any], bool, bool]:
    """A page read straight off the path index; one row more tells if another follows."""
    rows = list(q.files_page(session, dataset_id, number, after=after if before is None
                             else None, before=before, limit=limit + 1))
    more = len(rows) > limit
    if before is not None:  # backwards: the extra row is the first; ``before`` comes next
        return (rows[1:] if more else rows), more, True
    rows = rows[:limit]
    has_previous = after is not None and bool(rows) and q.path_exists_before(
        session, dataset_id, number, rows[0].path)
    return rows, has_previous, more


def _searched(session: Session, dataset_id: int, number: int, search: str, after: str | None,
              before: str | None, limit: int) -> tuple[list[Any], int, bool, bool]:
    """One scan finds every matching path (counting them needs that scan anyway); the page
    is a slice of that list, read with its blame by name."""
    paths = q.matching_paths(session, dataset_id, number, search)
    if before is not None:
        end = bisect.bisect_left(paths, before)
        start = max(0, end - limit)
    else:
        start = bisect.bisect_right(paths, after) if after is not None else 0
        end = start + limit
    rows = q.files_named(session, dataset_id, number, paths[start:end])
    return list(rows), len(paths), start > 0, end < len(paths)


def versions_page(session: Session, name: str, *, below: int | None = None,
                  limit: int = PAGE) -> VersionsPage:
    """Versions newest first, ``limit`` at a time, with their tags and authors."""
    dataset, _ = resolve(session, Ref(name))
    versions = list(q.versions_page(session, dataset.id, below=below, limit=limit + 1))
    more = len(versions) > limit
    versions = versions[:limit]
    authors = dq.user_names(session, {v.author_id for v in versions})
    tags = dq.tags_by_version(session, dataset.id)
    infos = [version_info(dataset.name, v, authors.get(v.author_id, "?"), tags.get(v.number, []))
             for v in versions]
    return VersionsPage(dataset.name, dataset.latest, infos,
                        versions[-1].number if more else None)


def diff_page(session: Session, a: Ref, b: Ref, *, limit: int = 500) -> DiffPage:
    """What changed from ``a`` to ``b`` (the same answer as ``history.diff``), the first
    ``limit`` changes listed."""
    dataset_a, version_a = resolve_kept(session, a)
    dataset_b, version_b = resolve_kept(session, b)
    if dataset_a.id == dataset_b.id:
        old, new = _changed_sides(session, dataset_a.id, version_a.number, version_b.number)
    else:
        old = _whole(manifest_at(session, dataset_a.id, version_a.number))
        new = _whole(manifest_at(session, dataset_b.id, version_b.number))
    found = _compare(old, new)
    counts = {kind: sum(1 for f in found if f[1] == kind)
              for kind in ("added", "modified", "deleted")}
    listed = [Change(path, kind, _entry(path, before), _entry(path, after))
              for path, kind, before, after in found[:limit]]
    return DiffPage(describe(session, dataset_a, version_a),
                    describe(session, dataset_b, version_b), counts, listed,
                    len(found) > limit)


def _changed_sides(session: Session, dataset_id: int, a: int, b: int) -> tuple[Side, Side]:
    """Both versions restricted to the paths that may differ; every other path has one
    entry live at both, so it is the same file in both."""
    low, high = sorted((a, b))
    ended, started = q.changed_between(session, dataset_id, low, high)
    at_low, at_high = _side(ended), _side(started)
    return (at_low, at_high) if a <= b else (at_high, at_low)


def _compare(old: Side, new: Side) -> list[Found]:
    """``manifest.compare``'s rule (a change of content or of the executable bit), on plain
    tuples: building 10,000 frozen dataclasses for a wide diff cost more than its queries."""
    found: list[Found] = [(p, "added", None, e) for p, e in new.items() if p not in old]
    found += [(p, "modified", old[p], e) for p, e in new.items()
              if p in old and (old[p][0], old[p][2]) != (e[0], e[2])]
    found += [(p, "deleted", e, None) for p, e in old.items() if p not in new]
    return sorted(found)


def _entry(path: str, fields: Fields | None) -> ManifestEntry | None:
    return None if fields is None else ManifestEntry(path, *fields)


def _side(rows: Sequence[Any]) -> Side:
    """Rows unpacked as tuples: attribute access on 10,000 rows costs several times more."""
    return {path: (oid, size, executable) for path, oid, size, executable in rows}


def _whole(manifest: dict[str, ManifestEntry]) -> Side:
    return {path: (e.oid, e.size, e.executable) for path, e in manifest.items()}


def _file(row: Any) -> FileRow:
    return FileRow(row.path, row.oid, row.size, row.executable, row.added_in, row.author,
                   row.created_at, row.message)


def _search(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    if len(text) > MAX_SEARCH:
        raise InvalidInput(f"the search is longer than {MAX_SEARCH} characters",
                           hint="search for a shorter part of the path")
    return text.strip()

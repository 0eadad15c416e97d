"""Committing a new version of a dataset, and resolving references to versions.

A commit ends the entries of modified and deleted files and starts new
entries for added and modified ones, all at the new version number, in the
caller's transaction together with its audit event. It refuses (Conflict) a
commit whose base is not the latest version: someone else committed since;
unless nothing changed since that base, which is just nothing to commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets import locks
from workspace.datasets.manifest import Changes, Manifest, ManifestEntry, compare, digest
from workspace.db.models import Dataset, Version
from workspace.db.queries import aliases
from workspace.db.queries import datasets as q
from workspace.db.queries import upkeep as uq
from workspace.errors import Conflict, NotFound
from workspace.refs import Ref, validate_name


@dataclass(frozen=True, slots=True)
class GitInfo:
    commit: str | None
    branch: str | None
    dirty: bool | None


@dataclass(frozen=True, slots=True)
class VersionInfo:
    dataset: str
    number: int
    author: str
    created_at: datetime
    message: str
    files: int
    bytes: int
    digest: str
    tags: list[str]
    git: dict[str, Any] | None
    aliases: list[str]
    pruned: dict[str, Any] | None = None  # {"by", "at", "how", "forced"} once pruned
    damaged: list[str] | None = None  # paths whose objects failed verification


@dataclass(frozen=True, slots=True)
class CommitOutcome:
    version: VersionInfo
    changes: Changes
    unchanged: bool


def resolve(session: Session, ref: Ref) -> tuple[Dataset, Version]:
    """The dataset and version a reference names, or NotFound saying what exists."""
    dataset = q.dataset_by_name(session, ref.dataset)
    if dataset is None or dataset.latest == 0:
        raise NotFound(f"dataset {ref.dataset} does not exist",
                       hint="`ws datasets` lists the datasets")
    number = dataset.latest if ref.version is None else ref.version
    if ref.label is not None:
        number = _labelled(session, dataset, ref.label)
    found = q.version(session, dataset.id, number)
    if found is None:
        raise NotFound(f"{ref.dataset} has no version {number} (latest is {dataset.latest})",
                       hint=f"`ws log {ref.dataset}` lists its versions")
    return dataset, found


def _labelled(session: Session, dataset: Dataset, label: str) -> int:
    """The version a tag names, else the one an alias names now (they never share a name)."""
    number = q.tag_target(session, dataset.id, label)
    if number is None:
        number = aliases.target(session, dataset.id, label)
    if number is None:
        raise NotFound(f"{dataset.name} has no tag or alias {label}",
                       hint=f"`ws log {dataset.name}` shows versions, tags and aliases")
    return number


def manifest_at(session: Session, dataset_id: int, number: int) -> dict[str, ManifestEntry]:
    # rows are (path, oid, size, executable): by position, a row's names cost a lookup each
    return {row[0]: ManifestEntry(*row) for row in q.entries_at(session, dataset_id, number)}


def commit(
    session: Session,
    *,
    dataset_name: str,
    author: Caller,
    message: str,
    manifest: Manifest,
    base: int | None,
    git: GitInfo | None = None,
    workspace: str | None = None,
    path: str | None = None,
    kind: str = "dir",
) -> CommitOutcome:
    """Record ``manifest`` as the next version; ``base=None`` creates the dataset."""
    dataset = _dataset_for_commit(session, dataset_name, author, base, kind)
    kept = uq.latest_kept(session, dataset.id)  # a pruned newest version is no base
    if base is not None and base != kept:
        return _unchanged_since(session, dataset, base, kept or dataset.latest, manifest)
    old = {e.path: _entry(e) for e in q.live_entries(session, dataset.id)}
    changes = compare(old, manifest)
    locks.refuse_locked_by_others(session, dataset, author,
                                  [*changes.added, *changes.modified, *changes.deleted])
    if changes.empty and dataset.latest > 0 and uq.latest_kept(session, dataset.id) == (
            dataset.latest):
        current = q.version(session, dataset.id, dataset.latest)
        assert current is not None
        return CommitOutcome(describe(session, dataset, current), changes, unchanged=True)
    number = dataset.latest + 1
    _write_entries(session, dataset.id, number, manifest, changes)
    version = _add_version(session, dataset, number, author, message, manifest, git)
    record(session, actor=author.name, action=Action.DATASET_VERSION_COMMIT,
           dataset=dataset.name, version=number, workspace=workspace, path=path,
           detail=_commit_detail(version, changes))
    return CommitOutcome(describe(session, dataset, version), changes, unchanged=False)


def describe(session: Session, dataset: Dataset, version: Version) -> VersionInfo:
    author = q.user_names(session, [version.author_id]).get(version.author_id, "?")
    tags = q.tags_by_version(session, dataset.id).get(version.number, [])
    named = aliases.by_version(session, dataset.id).get(version.number, [])
    return version_info(dataset.name, version, author, tags, named)


def version_table(session: Session, dataset_id: int, numbers: set[int]) -> dict[str, Any]:
    """``{"N": {"author", "created_at", "message", "git_commit"}}`` for the versions named:
    the small table blame answers point into, so that each version is described once."""
    return {str(number): {"author": author, "created_at": created_at, "message": message,
                          "git_commit": git_commit}
            for number, author, created_at, message, git_commit
            in q.version_notes(session, dataset_id, numbers)}


def version_info(dataset: str, version: Version, author: str, tags: list[str],
                 alias_names: list[str] | None = None) -> VersionInfo:
    git = None
    if version.git_commit is not None:
        git = {"commit": version.git_commit, "branch": version.git_branch,
               "dirty": version.git_dirty}
    return VersionInfo(
        dataset=dataset, number=version.number, author=author, created_at=version.created_at,
        message=version.message, files=version.file_count, bytes=version.total_bytes,
        digest=version.digest, tags=tags, git=git, aliases=alias_names or [],
    )


def _dataset_for_commit(
    session: Session, name: str, author: Caller, base: int | None, kind: str
) -> Dataset:
    validate_name(name)
    dataset = q.dataset_by_name(session, name, lock=True)
    if base is None:
        if dataset is not None and uq.latest_kept(session, dataset.id) is not None:
            raise Conflict(f"dataset {name} already exists",
                           hint=f"`ws get {name} PATH` checks it out; or choose another name")
        if dataset is None:
            dataset = q.create_dataset(session, name, author.user_id, kind)
            record(session, actor=author.name, action=Action.DATASET_NAME_CREATE, dataset=name)
        return dataset
    if dataset is None:
        raise NotFound(f"dataset {name} does not exist", hint="`ws datasets` lists datasets")
    return dataset


def _unchanged_since(session: Session, dataset: Dataset, base: int, current: int,
                     manifest: Manifest) -> CommitOutcome:
    """A commit based on an older version: nothing to commit if the data still is that
    version (not a conflict: nobody's work is at stake); otherwise the stale-base conflict."""
    held = q.version(session, dataset.id, base)
    changes = compare(manifest_at(session, dataset.id, base), manifest)
    if held is None or not changes.empty:
        raise _stale_base(session, dataset, base, current)
    return CommitOutcome(describe(session, dataset, held), changes, unchanged=True)


def _stale_base(session: Session, dataset: Dataset, base: int, current: int) -> Conflict:
    latest = q.version(session, dataset.id, current)
    assert latest is not None
    who = q.user_names(session, [latest.author_id]).get(latest.author_id, "?")
    return Conflict(
        f"{dataset.name} is at version {current} ({who}, "
        f"{latest.created_at:%Y-%m-%d %H:%M} UTC) but your copy is based on version {base}",
        hint="save your changed files elsewhere, `ws checkout PATH` to the latest version, "
        "put your changes back, then commit",
        details={"dataset": dataset.name, "latest": current, "base": base},
    )


def _write_entries(
    session: Session, dataset_id: int, number: int, manifest: Manifest, changes: Changes
) -> None:
    ending = set(changes.modified) | set(changes.deleted)
    if ending:
        live = q.live_entries(session, dataset_id)
        q.end_entries(session, [e.id for e in live if e.path in ending], number)
    starting = [manifest[path] for path in (*changes.added, *changes.modified)]
    q.record_objects(session, {e.oid: e.size for e in starting})
    q.insert_entries(session, [(dataset_id, e.path, e.oid, e.size, e.executable, number, None)
                               for e in starting])


def _add_version(
    session: Session, dataset: Dataset, number: int, author: Caller, message: str,
    manifest: Manifest, git: GitInfo | None,
) -> Version:
    version = Version(
        dataset_id=dataset.id, number=number, author_id=author.user_id, message=message,
        digest=digest(manifest.values()), file_count=len(manifest),
        total_bytes=sum(e.size for e in manifest.values()),
        git_commit=git.commit if git else None, git_branch=git.branch if git else None,
        git_dirty=git.dirty if git else None,
    )
    session.add(version)
    dataset.latest = number
    session.flush()
    return version


def _commit_detail(version: Version, changes: Changes) -> dict[str, Any]:
    return {
        "digest": version.digest, "files": version.file_count, "bytes": version.total_bytes,
        "message": version.message, "counts": changes.counts(),
        "added": changes.added, "modified": changes.modified, "deleted": changes.deleted,
        "git": version.git_commit,
    }


def _entry(entry: Any) -> ManifestEntry:
    """An Entry, or a row with its path, oid, size and executable columns."""
    return ManifestEntry(entry.path, entry.oid, entry.size, entry.executable)


def import_version(session: Session, *, dataset: Dataset, number: int, author_id: int,
                   created_at: datetime, message: str, manifest: Manifest,
                   git: GitInfo | None) -> Version:
    """Record a version made on another server (``ws pull``) as it was made there.

    Its author, time, message and git provenance are kept; the entries are
    written exactly as a local commit writes them. The caller checks that
    ``number`` follows ``dataset.latest`` and records the audit event.
    """
    old = {e.path: _entry(e) for e in q.live_entries(session, dataset.id)}
    _write_entries(session, dataset.id, number, manifest, compare(old, manifest))
    version = Version(
        dataset_id=dataset.id, number=number, author_id=author_id, created_at=created_at,
        message=message, digest=digest(manifest.values()), file_count=len(manifest),
        total_bytes=sum(e.size for e in manifest.values()),
        git_commit=git.commit if git else None, git_branch=git.branch if git else None,
        git_dirty=git.dirty if git else None,
    )
    session.add(version)
    dataset.latest = number
    session.flush()
    return version

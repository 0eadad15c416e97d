"""Putting a tracked path's files into the store, then linking them back.

Order (docs/design.md, "write ordering"):
1. stage every file: adopt the user's own inode when allowed (single-user
   mode, the daemon owns the file, one link, not executable, and a read lease
   proves nobody has it open for writing), otherwise copy it while hashing;
2. ``batch.commit()``: every object is durable under its final name;
3. only then (after ``before_relink``: in service mode, the committer's read
   entries on the objects) replace each user file by a hardlink to its
   object, and only if the file is still the one we read (same inode, size, mtime).
The database records the version after this, in the caller's transaction.
"""

from __future__ import annotations

import os
import posixpath
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from workspace.datasets.manifest import ManifestEntry
from workspace.store import IngestBatch, ObjectStore, Staged, hash_fd, safefs
from workspace.store.jobs import not_owned
from workspace.store.pins import PinLease

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class Summary:
    files: int = 0
    bytes: int = 0
    new_objects: int = 0
    new_bytes: int = 0
    deduplicated: int = 0
    linked: int = 0
    copied: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class IngestReport:
    manifest: dict[str, ManifestEntry] = field(default_factory=dict)
    stats: dict[str, os.stat_result] = field(default_factory=dict)
    """Per staged path, the stat its stat-cache row may hold: taken just after the file was
    placed (relinked, or adopted as the object) when the path was checked to hold that
    inode; otherwise as read before staging, so a change made since mismatches and is hashed."""
    summary: Summary = field(default_factory=Summary)


@dataclass(slots=True)
class _Staged:
    relpath: str
    staged: Staged
    stat: os.stat_result
    adopted: bool
    created: bool = False  # this operation published the object (another may have, first)

    @property
    def is_object(self) -> bool:
        """The user's own inode became the object: there is nothing to relink."""
        return self.adopted and self.created


@dataclass(frozen=True, slots=True)
class IngestOptions:
    owner_uid: int | None
    adopt: bool
    relink: bool
    lease: PinLease | None = None  # pins held until the caller's version commits
    on_staged: Callable[[set[str]], None] = lambda oids: None  # before objects are published
    # then, given the manifest (staged and known files), still before they are published
    on_manifest: Callable[[dict[str, ManifestEntry]], None] = lambda manifest: None
    before_relink: Callable[[list[str]], None] = lambda oids: None  # given the stored oids
    # Service mode: executables become the daemon's private copies too, so that no file of
    # the dataset stays readable by whatever mode its author gave it (the ACL decides).
    relink_executables: bool = False


def ingest(store: ObjectStore, base_fd: int, paths: list[str],
           known: dict[str, ManifestEntry], options: IngestOptions,
           progress: Progress) -> IngestReport:
    """Ingest ``paths`` (relative to ``base_fd``); ``known`` holds the unchanged files."""
    started = time.monotonic()
    report = IngestReport()
    with store.batch(options.lease) as batch:
        staged = _stage_all(batch, store, base_fd, paths, options, progress, len(known))
        options.on_staged(set(batch.lease.oids))
        report.manifest = {**{item.relpath: _entry(item) for item in staged}, **known}
        options.on_manifest(report.manifest)
        batch.commit()
    options.before_relink([item.staged.oid for item in staged])
    for item in staged:  # a concurrent add of the same bytes may have published them first
        item.created = item.staged.new and item.staged.oid in batch.published
        report.stats[item.relpath] = item.stat
        _count_staged(report.summary, item)
    _settle_all(store, base_fd, staged, report, options)
    report.summary.unchanged += len(known)
    report.summary.files = len(report.manifest)
    report.summary.bytes = sum(e.size for e in report.manifest.values())
    report.summary.seconds = round(time.monotonic() - started, 3)
    return report


def by_directory(paths: Iterable[str]) -> dict[str, list[str]]:
    """Relpaths (normalized: no "//", no trailing "/") by their directory ("" for the top)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for path in paths:
        groups[path.rpartition("/")[0]].append(path)  # posixpath.dirname: 4x the time
    return groups


@contextmanager
def _opened_group(base_fd: int, directory: str) -> Iterator[int]:
    fd = safefs.open_group_dir(base_fd, directory)
    try:
        yield fd
    finally:
        os.close(fd)


def _stage_all(batch: IngestBatch, store: ObjectStore, base_fd: int, paths: list[str],
               options: IngestOptions, progress: Progress, already: int) -> list[_Staged]:
    if store.stages_in_workers(len(paths)):
        return _stage_in_workers(batch, store, base_fd, paths, options, progress, already)
    staged: list[_Staged] = []
    done_bytes = 0
    for directory, members in sorted(by_directory(paths).items()):
        with _opened_group(base_fd, directory) as dir_fd:
            for relpath in members:
                item = _stage_one(batch, store, dir_fd, relpath, options)
                staged.append(item)
                done_bytes += item.staged.size
                progress(already + len(staged), done_bytes)
    return staged


def _stage_in_workers(batch: IngestBatch, store: ObjectStore, base_fd: int, paths: list[str],
                      options: IngestOptions, progress: Progress,
                      already: int) -> list[_Staged]:
    """:func:`_stage_all` on the store's file workers (``store/workers.py``): the same
    checks and the same result, the system calls of many files in parallel."""
    directories = sorted(by_directory(paths).items())
    groups = [(d, [p.rpartition("/")[2] for p in members]) for d, members in directories]
    by_group: dict[int, list[_Staged]] = {}
    count = done_bytes = 0
    for index, results in store.stage_dirs(batch, base_fd, groups, adopt=options.adopt,
                                           owner_uid=options.owner_uid):
        by_group[index] = [_Staged(path, staged, st, adopted) for path, (staged, st, adopted)
                           in zip(directories[index][1], results, strict=True)]
        count += len(results)
        done_bytes += sum(item.staged.size for item in by_group[index])
        progress(already + count, done_bytes)
    return [item for index in sorted(by_group) for item in by_group[index]]


def _stage_one(batch: IngestBatch, store: ObjectStore, dir_fd: int, relpath: str,
               options: IngestOptions) -> _Staged:
    name = posixpath.basename(relpath)
    fd, st = safefs.open_regular_file(dir_fd, name, owner_uid=None)
    try:
        if options.owner_uid is not None and st.st_uid != options.owner_uid:
            return _Staged(relpath, _stored_already(store, batch, fd, st, name,
                                                    options.owner_uid), st, adopted=False)
        result = None
        if options.adopt and _adoptable(st):
            result = batch.adopt(dir_fd, name, fd, st)
        adopted = result is not None
        if result is None:
            result = batch.ingest_copy(fd)
        return _Staged(relpath, result, st, adopted)
    finally:
        os.close(fd)


def _stored_already(store: ObjectStore, batch: IngestBatch, fd: int, st: os.stat_result,
                    name: str, owner_uid: int) -> Staged:
    """A file the caller does not own is refused, unless it is one the daemon put there.

    In service mode every link the daemon makes into a workspace (and every
    copy, for executables) belongs to the daemon's user. One that is not yet in
    the stat cache (an operation that failed after relinking, a crash before
    the version was recorded) must not make the path impossible to commit. Only
    the daemon can have written a file it owns, so if its bytes are an object
    already, it holds nothing new: nothing is copied.
    """
    if st.st_uid == os.geteuid():
        oid = hash_fd(fd, st.st_size)
        if store.pin_existing(batch.lease, oid):
            return Staged(oid, st.st_size, new=False)
    raise not_owned(name, st, owner_uid)


def _adoptable(st: os.stat_result) -> bool:
    return st.st_uid == os.geteuid() and st.st_nlink == 1 and not st.st_mode & 0o111


def _settle_all(store: ObjectStore, base_fd: int, staged: list[_Staged], report: IngestReport,
                options: IngestOptions) -> None:
    """Relink each staged file to its object (when ``options.relink``) and take the stat of
    what each path then holds, one directory fd per directory.

    Linear in files and directories: each item is grouped once. A lookup table
    rebuilt per directory made it quadratic: 213 s instead of 2.8 s for 100,000
    files in 10,000 directories (bench/bench_relink.py, on a busy machine).
    Executables are relinked (copied) only with ``relink_executables`` (service
    mode: the ACL decides who reads). An adopted file already is its object: it is
    only stat-ed, its ctime having moved with the chmod and the links into the store.
    """
    report.summary.linked += sum(1 for s in staged if s.is_object)
    groups: dict[str, list[_Staged]] = defaultdict(list)
    for item in staged:
        if item.is_object or (options.relink and (
                options.relink_executables or not _executable(item.stat))):
            groups[posixpath.dirname(item.relpath)].append(item)
    for directory, members in sorted(groups.items()):
        with _opened_group(base_fd, directory) as dir_fd:
            for item in members:
                after = (_still_adopted(dir_fd, item) if item.is_object
                         else _relink_one(store, dir_fd, item, report.summary))
                if after is not None:
                    report.stats[item.relpath] = after


def _still_adopted(dir_fd: int, item: _Staged) -> os.stat_result | None:
    """The path's lstat if it still names the adopted inode (now the object), else None."""
    now = safefs.lstat_at(dir_fd, posixpath.basename(item.relpath))
    if now is None or (now.st_dev, now.st_ino) != (item.stat.st_dev, item.stat.st_ino):
        return None
    return now


def _relink_one(store: ObjectStore, dir_fd: int, item: _Staged,
                summary: Summary) -> os.stat_result | None:
    """Replace the file by its object if it is still the file read; the stat just after."""
    name = posixpath.basename(item.relpath)
    now = safefs.lstat_at(dir_fd, name)
    if now is None or not _same_file(now, item.stat):
        return None  # changed while we read it: leave it; status will show it as modified
    how, after = store.place(item.staged.oid, dir_fd, name, size=item.staged.size,
                             executable=_executable(item.stat))
    if how == "hardlink":
        summary.linked += 1
    else:
        summary.copied += 1
    return after


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_ino, a.st_dev, a.st_size, a.st_mtime_ns) == (
        b.st_ino, b.st_dev, b.st_size, b.st_mtime_ns)


def _count_staged(summary: Summary, item: _Staged) -> None:
    if item.created:
        summary.new_objects += 1
        summary.new_bytes += item.staged.size
    else:
        summary.deduplicated += 1


def _entry(item: _Staged) -> ManifestEntry:
    return ManifestEntry(item.relpath, item.staged.oid, item.staged.size, _executable(item.stat))


def _executable(st: os.stat_result) -> bool:
    return bool(st.st_mode & 0o100)

"""What a file worker does (``workers.py``); without workers the same functions run in-thread.

Each job is given the store's layout (in a worker: only its ``objects/`` and
``tmp/`` fds), the fd sent with it (the base directory its names are under),
and its arguments, and only makes the fd-relative calls of ``materialize.py``, ``ingest.py`` and
``acl.py``. Its answer is plain data (stats, ids, errors) for the daemon.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from workspace.errors import AclFull, PermissionDenied
from workspace.store import acl
from workspace.store.acl import Readers
from workspace.store.hashing import hash_fd
from workspace.store.ingest import adopt_to_temp, copy_to_temp, publish_temps
from workspace.store.layout import StoreLayout
from workspace.store.materialize import Method, Placement, link_many
from workspace.store.safefs import open_group_dir, open_regular_file

Linked = list[tuple[Method, os.stat_result | None]]
Sent = tuple[str, str, int | None, bool, bool]
"""A placement as sent to a worker: a plain tuple (cheaper to pickle than the class)."""
Clash = tuple[int, int]
"""(directory, entry): the name that appeared while it was being linked (FileExistsError)."""


def sendable(p: Placement) -> Sent:
    return (p.name, p.oid, p.size, p.executable, p.replace)


def link_dirs(layout: StoreLayout, fds: Sequence[int], directories: Sequence[str],
              groups: Sequence[Sequence[Placement | Sent]],
              prefer: Method, link_count_limit: int | None, private: bool
              ) -> tuple[list[Linked], Clash | None]:
    """``link_many`` in each directory ``directories[i]`` under ``fds[0]`` (created if
    missing) for ``groups[i]``: how each name was placed and its lstat just after; stops at
    the first name that appeared meanwhile."""
    done: list[Linked] = []
    for dir_fd, group in zip(_each_dir(fds[0], directories, create=True), groups, strict=True):
        placements = [p if isinstance(p, Placement) else Placement(*p) for p in group]
        linked: Linked = []
        done.append(linked)
        try:
            linked.extend(link_many(layout, dir_fd, placements, prefer=prefer,
                                    link_count_limit=link_count_limit, private=private))
        except FileExistsError:
            return done, (len(done) - 1, len(linked))
    return done, None


def _each_dir(base_fd: int, directories: Sequence[str], *, create: bool) -> Iterator[int]:
    """Each directory (``safefs.open_group_dir``: symlink-safe, relative to ``base_fd``),
    open while the caller works in it. The worker opens (and creates) them itself: a
    ``mkdir`` costs about a millisecond here, too much for the daemon's thread."""
    for directory in directories:
        fd = open_group_dir(base_fd, directory, create=create)
        try:
            yield fd
        finally:
            os.close(fd)


def add_readers(layout: StoreLayout, fds: Sequence[int],
                wanted: Sequence[tuple[Sequence[str], Readers]], max_entries: int
                ) -> list[tuple[str | None, AclFull | None]]:
    """``acl.add_in_one_pass`` over objects (an object not in the store is skipped)."""

    def add(oid: str, readers: Readers) -> None:
        with contextlib.suppress(FileNotFoundError):
            acl.add_readers(acl.object_target(layout.objects_fd, layout.relpath(oid)), readers,
                            what=f"object {oid}", max_entries=max_entries)

    return acl.add_in_one_pass(wanted, add)


Stage = tuple[str, str, int, str | None, os.stat_result]
"""One file staged by a worker: (how, id, size, temp name, the file's stat as opened).
How: ``adopted`` (its inode is linked into tmp/, 0444), ``copied`` (a new temp), or
``daemons`` (not the caller's but the daemon's own, hashed only: no temp)."""


def stage_dirs(layout: StoreLayout, fds: Sequence[int], directories: Sequence[str],
               groups: Sequence[Sequence[str]], adopt: bool,
               owner_uid: int | None) -> list[list[Stage]]:
    """Stage every name of ``groups[i]`` in ``directories[i]`` (under ``fds[0]``) as
    ``IngestBatch`` would,
    up to the lookup of its id (the daemon's: ``IngestBatch.accept``). On an error the
    temps this job made are removed (adopted files get their mode back) before it is
    raised."""
    made: list[str] = []
    done: list[list[Stage]] = []
    try:
        for dir_fd, names in zip(_each_dir(fds[0], directories, create=False), groups,
                                 strict=True):
            done.append([_stage_file(layout, dir_fd, name, adopt, owner_uid, made)
                         for name in names])
    except BaseException:
        for temp in made:
            layout.discard_temp(temp)
        raise
    return done


def _stage_file(layout: StoreLayout, dir_fd: int, name: str, adopt: bool,
                owner_uid: int | None, made: list[str]) -> Stage:
    fd, st = open_regular_file(dir_fd, name, owner_uid=None)
    try:
        if owner_uid is not None and st.st_uid != owner_uid:
            if st.st_uid != os.geteuid():
                raise not_owned(name, st, owner_uid)
            return "daemons", hash_fd(fd, st.st_size), st.st_size, None, st
        adopted = adopt_to_temp(layout, dir_fd, name, fd, st) if adopt else None
        if adopted is not None:
            made.append(adopted[1])
            return "adopted", adopted[0], st.st_size, adopted[1], st
        oid, size, temp = copy_to_temp(layout, fd)
        made.append(temp)
        return "copied", oid, size, temp, st
    finally:
        os.close(fd)


def not_owned(name: str, st: os.stat_result, owner_uid: int) -> PermissionDenied:
    return PermissionDenied(f"{name} is owned by uid {st.st_uid}, not by uid {owner_uid}",
                            hint="only the owner's own files and directories can be used")


def temps_of(staged: list[list[Stage]]) -> list[str]:
    return [temp for group in staged for (_, _, _, temp, _) in group if temp is not None]


def publish(layout: StoreLayout, fds: Sequence[int],
            pairs: list[tuple[str, str]]) -> tuple[list[bool], bool]:
    """``ingest.publish_temps``: durable temps to their final names."""
    return publish_temps(layout, pairs)


def missing(layout: StoreLayout, fds: Sequence[int], oids: Sequence[str]) -> list[str]:
    """The ids of ``oids`` that name no object in the store."""
    return [oid for oid in oids if layout.lstat(oid) is None]


def cut_evenly(count: int, workers: int) -> list[range]:
    """``range(count)`` in consecutive parts, two per worker (at most ``_JOB_FILES`` each)."""
    size = max(1, min(_JOB_FILES, -(-count // (2 * max(1, workers)))))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


JOBS: dict[str, Callable[..., Any]] = {"link_dirs": link_dirs, "add_readers": add_readers,
                                       "stage_dirs": stage_dirs, "publish": publish,
                                       "missing": missing}


# ---- the daemon's side: cutting a checkout into jobs ---------------------------------------

IN_THREAD_BELOW = 512
"""Files (or objects to publish) under which the calling thread does the work itself:
sending them to a worker costs more than it saves."""
_JOB_FILES = 1000  # per job, at most (progress and balance), unless one directory has more
_JOB_DIRS = 64  # directories per job


class NameAppeared(FileExistsError):
    """A name appeared in a directory while it was being linked: ``group`` and ``entry``
    index the placement (:meth:`ObjectStore.link_dirs`)."""

    def __init__(self, group: int, entry: int) -> None:
        super().__init__(f"directory {group}, entry {entry}")
        self.group, self.entry = group, entry


def cut(sizes: Sequence[int], workers: int) -> list[range]:
    """Consecutive groups (of ``sizes[i]`` files each) cut into jobs: enough for every
    worker to have two, none over ``_JOB_FILES`` files or ``_JOB_DIRS`` directories."""
    total = sum(sizes)
    target = max(1, min(_JOB_FILES, -(-total // (2 * max(1, workers)))))
    cuts: list[range] = []
    start = files = 0
    for index, size in enumerate(sizes):
        if index > start and (files + size > target or index - start >= _JOB_DIRS):
            cuts.append(range(start, index))
            start, files = index, 0
        files += size
    if start < len(sizes):
        cuts.append(range(start, len(sizes)))
    return cuts

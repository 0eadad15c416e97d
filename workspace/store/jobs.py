"""What a file worker does (``workers.py``); without workers the same functions run in-thread.

Each job is given the store's ``objects/`` fd, the directory fds sent with it,
and its arguments, and only makes the fd-relative calls of ``materialize.py``
and ``acl.py``. Its answer is plain data (stats, ids, errors) for the daemon.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workspace.errors import AclFull
from workspace.store import acl
from workspace.store.acl import Readers
from workspace.store.layout import StoreLayout
from workspace.store.materialize import Method, Placement, link_many

Linked = list[tuple[Method, os.stat_result | None]]
Sent = tuple[str, str, int | None, bool, bool]
"""A placement as sent to a worker: without the object's stat (pickling a stat costs the
daemon more than the worker's own lstat of the object)."""
Clash = tuple[int, int]
"""(directory, entry): the name that appeared while it was being linked (FileExistsError)."""


def objects_only(objects_fd: int) -> StoreLayout:
    """A layout that knows only ``objects/``: all that linking and ACLs use."""
    return StoreLayout(Path("."), -1, objects_fd, -1)


def sendable(p: Placement) -> Sent:
    return (p.name, p.oid, p.size, p.executable, p.replace)


def link_dirs(objects_fd: int, fds: Sequence[int],
              groups: Sequence[Sequence[Placement | Sent]],
              prefer: Method, link_count_limit: int | None, private: bool
              ) -> tuple[list[Linked], Clash | None]:
    """``link_many`` in each directory ``fds[i]`` for ``groups[i]``: how each name was placed
    and its lstat just after; stops at the first name that appeared meanwhile."""
    layout = objects_only(objects_fd)
    done: list[Linked] = []
    for dir_fd, group in zip(fds, groups, strict=True):
        placements = [p if isinstance(p, Placement) else Placement(*p) for p in group]
        linked: Linked = []
        done.append(linked)
        try:
            linked.extend(link_many(layout, dir_fd, placements, prefer=prefer,
                                    link_count_limit=link_count_limit, private=private))
        except FileExistsError:
            return done, (len(done) - 1, len(linked))
    return done, None


def add_readers(objects_fd: int, fds: Sequence[int],
                wanted: Sequence[tuple[Sequence[str], Readers]], max_entries: int
                ) -> list[tuple[str | None, AclFull | None]]:
    """``acl.add_in_one_pass`` over objects (an object not in the store is skipped)."""
    layout = objects_only(objects_fd)

    def add(oid: str, readers: Readers) -> None:
        with contextlib.suppress(FileNotFoundError):
            acl.add_readers(acl.object_target(objects_fd, layout.relpath(oid)), readers,
                            what=f"object {oid}", max_entries=max_entries)

    return acl.add_in_one_pass(wanted, add)


JOBS: dict[str, Callable[..., Any]] = {"link_dirs": link_dirs, "add_readers": add_readers}


# ---- the daemon's side: cutting a checkout into jobs ---------------------------------------

IN_THREAD_BELOW = 512
"""Files under which a checkout links in the calling thread: sending them costs more."""
_JOB_FILES = 1000  # per job, at most (progress and balance), unless one directory has more
_JOB_DIRS = 64  # fds per job


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

"""The content-addressed object store: what the daemon holds open for its whole life.

An object is an immutable, 0444 file named by the BLAKE3-256 of its bytes
(``objects/ab/<62 hex>``, see ``layout.py``). Objects enter only through an
:class:`~workspace.store.ingest.IngestBatch` (whose docstring states the write
ordering) and leave users' directories only as hardlinks or private copies
(``materialize.py``). Nothing here modifies an object; ``verify`` re-hashes one
so ``fsck`` can tell a damaged object from a good one.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from workspace.errors import AclFull, NotFound, StoreCorrupt
from workspace.store import acl, jobs
from workspace.store.acl import Readers
from workspace.store.hashing import hash_fd, is_oid
from workspace.store.ingest import IngestBatch, Staged, publish_temps
from workspace.store.layout import StoreLayout
from workspace.store.materialize import Method, Placement, link_into, link_many, place
from workspace.store.pins import PinLease, Pins
from workspace.store.workers import FileWorkers, Job, run_in_thread


class ObjectStore:
    """An open store; create with :meth:`open`, release with :meth:`close`.

    ``link_count_limit`` (None: the filesystem's own) makes :meth:`link_into`
    copy once an object has that many links. Tests set it low to exercise the
    same fallback as a real ``EMLINK`` without creating 65,000 links on ext4.

    A ``private`` store (service mode) makes objects 0400 and copies 0400/0500:
    who else reads them is named by their POSIX ACLs (``acl.py``), at most
    ``max_acl_entries`` principals per file.
    """

    def __init__(self, layout: StoreLayout, *, private: bool = False,
                 max_acl_entries: int = acl.DEFAULT_MAX_ENTRIES) -> None:
        self._layout = layout
        self.private = private
        self.max_acl_entries = max_acl_entries
        self.link_count_limit: int | None = None
        self.pins = Pins()
        self._workers: FileWorkers | None = None
        layout.object_mode = 0o400 if private else 0o444

    @classmethod
    def open(cls, root: Path, *, private: bool = False,
             max_acl_entries: int = acl.DEFAULT_MAX_ENTRIES) -> ObjectStore:
        """Open (creating if needed) the store at ``root``; deletes a crashed run's temps.

        Only one process may have a store open: the daemon's lock file ensures that.
        """
        return cls(StoreLayout.open(Path(root)), private=private,
                   max_acl_entries=max_acl_entries)

    def close(self) -> None:
        """Stop the workers, release the store's directory fds; idempotent."""
        if self._workers is not None:
            self._workers.close()
            self._workers = None
        self._layout.close()

    def start_workers(self, count: int) -> None:
        """Link checkouts and write grants' ACLs in ``count`` worker processes
        (``workers.py``); 0 keeps all of it in the calling threads."""
        if count > 0 and self._workers is None:
            self._workers = FileWorkers(self._layout, count)

    @property
    def workers(self) -> int:
        return 0 if self._workers is None else self._workers.count

    def __enter__(self) -> ObjectStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def root(self) -> Path:
        """The directory the store lives in."""
        return self._layout.root

    @property
    def store_id(self) -> str:
        """This store's UUID (``<root>/id``): damage and scrub records name it."""
        return self._layout.store_id

    @property
    def layout(self) -> StoreLayout:
        """The open directories, for the store's own upkeep (gc, fsck, scrub)."""
        return self._layout

    def pin_existing(self, lease: PinLease, oid: str) -> bool:
        """Pin ``oid`` in ``lease``, then say whether the object exists (see ``pins.py``)."""
        return self.pin_and_stat(lease, oid) is not None

    def pin_and_stat(self, lease: PinLease, oid: str) -> os.stat_result | None:
        """Pin ``oid`` in ``lease``, then lstat the object (None: absent), under its fan-out
        lock as ``gc`` unlinks under it: an object seen here stays until the lease ends."""
        with self.pins.fanout_lock(oid):
            lease.pin(oid)
            return self._layout.lstat(oid)

    def pin_many(self, lease: PinLease, oids: Iterable[str]) -> None:
        """Pin each of ``oids`` in ``lease`` under its fan-out lock, each lock taken once:
        an object there now stays until the lease ends (see :meth:`pin_and_stat`)."""
        for fanout, group in _by_fanout(oids).items():
            with self.pins.fanout_lock(fanout):
                lease.pin_all(group)

    def missing(self, oids: Sequence[str]) -> list[str]:
        """The ids of ``oids`` that name no object in the store (looked at on the workers
        when there are many: an lstat of 10,000 objects in the daemon's thread was 35 ms
        of a checkout). Pin them first (:meth:`pin_many`) for the answer to hold."""
        cuts = jobs.cut_evenly(len(oids), self.workers)
        pending = (Job("missing", (oids[cut.start:cut.stop],)) for cut in cuts)
        return [oid for _, gone in self._run(pending, self._parallel(len(oids)))
                for oid in gone]

    def object_path(self, oid: str) -> Path:
        """Where ``oid`` lives (or would live); for messages and tests, not for opening."""
        return self._layout.root / "objects" / self._layout.relpath(oid)

    def stat(self, oid: str) -> os.stat_result | None:
        """The object's lstat (never following a link), or None if it is absent."""
        return self._layout.lstat(oid)

    def exists(self, oid: str) -> bool:
        """True if the object is in the store (durable, if no batch is mid-commit)."""
        return self._layout.lstat(oid) is not None

    def open_object(self, oid: str) -> int:
        """A read-only fd on the object; the caller closes it."""
        # O_NONBLOCK: a FIFO planted in the store must not hang the daemon (no effect on files).
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            return os.open(self._layout.relpath(oid), flags, dir_fd=self._layout.objects_fd)
        except FileNotFoundError:
            raise NotFound(
                f"object {oid} is not in the store",
                hint="the data may have been garbage-collected; add the file again",
            ) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _not_regular(oid) from None
            raise

    def verify(self, oid: str) -> bool:
        """Re-hash the object: True only if it is a regular file whose bytes hash to its name."""
        try:
            fd = self.open_object(oid)
        except StoreCorrupt:
            return False
        try:
            st = os.fstat(fd)
            return stat.S_ISREG(st.st_mode) and hash_fd(fd, st.st_size) == oid
        finally:
            os.close(fd)

    def object_ids(self) -> Iterator[list[str]]:
        """Every object id in the store, one fan-out directory's worth at a time."""
        with os.scandir(self._layout.objects_fd) as fanouts:
            prefixes = sorted(e.name for e in fanouts if len(e.name) == 2)
        for prefix in prefixes:
            fd = os.open(prefix, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=self._layout.objects_fd)
            try:
                with os.scandir(fd) as entries:
                    yield sorted(prefix + e.name for e in entries if is_oid(prefix + e.name))
            finally:
                os.close(fd)

    def require_acl_support(self) -> None:
        """InvalidInput if the store's filesystem cannot hold POSIX ACLs."""
        acl.require_support(self._layout.tmp_fd, str(self.root))

    def readers(self, oid: str) -> Readers:
        """Who the object's ACL lets read it (raises FileNotFoundError if it is absent)."""
        return acl.read(self._acl_target(oid))

    def set_readers(self, oid: str, readers: Readers) -> None:
        """Make the object's ACL name exactly ``readers`` (AclFull if they do not fit)."""
        acl.write(self._acl_target(oid), readers, what=f"object {oid}",
                  max_entries=self.max_acl_entries)

    def _acl_target(self, oid: str) -> str:
        return acl.object_target(self._layout.objects_fd, self._layout.relpath(oid))

    def batch(self, lease: PinLease | None = None) -> IngestBatch:
        """A new ingest batch; use it as a context manager (see ``ingest.py``).

        Staged objects are pinned in ``lease`` (kept after the batch, until the
        caller's version commits); without one, only while the batch runs.
        """
        return IngestBatch(self._layout, self.pins, lease, publish=self._publish)

    def _publish(self, pairs: list[tuple[str, str]]) -> tuple[list[bool], bool]:
        """``ingest.publish_temps``, on the workers when there are many."""
        if not self._parallel(len(pairs)):
            return publish_temps(self._layout, pairs)
        cuts = jobs.cut_evenly(len(pairs), self.workers)
        created: list[bool] = [False] * len(pairs)
        created_fanout = False
        pending = (Job("publish", (pairs[cut.start:cut.stop],)) for cut in cuts)
        for index, (made, fanout) in self._run(pending, self.workers):
            created[cuts[index].start:cuts[index].stop] = made
            created_fanout |= fanout
        return created, created_fanout

    def link_into(
        self,
        oid: str,
        dir_fd: int,
        name: str,
        *,
        executable: bool = False,
        replace: bool = False,
        prefer: Method = "hardlink",
        size: int | None = None,
    ) -> Method:
        """Materialize ``oid`` as ``name`` in ``dir_fd``: ``"hardlink"`` or ``"copy"``.

        Raises FileExistsError if ``name`` exists and ``replace`` is False, and
        StoreCorrupt if ``size`` is given and the object holds another size.
        See ``materialize.py`` for when a copy is made instead of a link.
        """
        return link_into(
            self._layout,
            oid,
            dir_fd,
            name,
            executable=executable,
            replace=replace,
            prefer=prefer,
            link_count_limit=self.link_count_limit,
            size=size,
            private=self.private,
        )

    def place(self, oid: str, dir_fd: int, name: str, *, size: int,
              executable: bool = False) -> tuple[Method, os.stat_result | None]:
        """Replace ``name`` by ``oid`` (as :meth:`link_into` with ``replace``), then its ``lstat``:
        None if ``name`` is no longer what was just placed (``materialize.place``)."""
        return place(self._layout, oid, dir_fd, name, executable=executable,
                     link_count_limit=self.link_count_limit, size=size, private=self.private)

    def link_many(self, dir_fd: int, placements: Iterable[Placement], *,
                  prefer: Method = "hardlink") -> Iterator[tuple[Method, os.stat_result | None]]:
        """:meth:`link_into` for many names in one directory, yielding how each was done and
        the name's lstat just after (None if it no longer holds what was placed)."""
        return link_many(self._layout, dir_fd, placements, prefer=prefer,
                         link_count_limit=self.link_count_limit, private=self.private)

    def link_dirs(self, base_fd: int, groups: Sequence[tuple[str, Sequence[Placement]]], *,
                  prefer: Method = "hardlink") -> Iterator[tuple[int, jobs.Linked]]:
        """:meth:`link_many` in each directory ``groups[i][0]`` (under ``base_fd``, created if
        missing) for its placements; yields ``(i, how and lstat of each)`` as each is done,
        on the workers when there are enough files. A name that appeared meanwhile raises
        :class:`~workspace.store.jobs.NameAppeared` (nothing after it in that directory is
        linked)."""
        sizes = [len(placements) for _, placements in groups]
        cuts = jobs.cut(sizes, self.workers)
        pending = (self._link_job(base_fd, [groups[i] for i in cut], prefer) for cut in cuts)
        for index, (linked, clash) in self._run(pending, self._parallel(sum(sizes))):
            first = cuts[index].start
            yield from ((first + offset, done) for offset, done in enumerate(linked))
            if clash is not None:
                raise jobs.NameAppeared(first + clash[0], clash[1])

    def _link_job(self, base_fd: int, groups: Sequence[tuple[str, Sequence[Placement]]],
                  prefer: Method) -> Job:
        placements: list[Sequence[Placement | jobs.Sent]] = [
            [jobs.sendable(p) for p in group] if self._workers else group for _, group in groups]
        return Job("link_dirs", ([d for d, _ in groups], placements, prefer,
                                 self.link_count_limit, self.private), (os.dup(base_fd),))

    def add_readers_in_one_pass(self, wanted: Sequence[tuple[Sequence[str], Readers]]
                                ) -> list[tuple[str | None, AclFull | None]]:
        """:func:`acl.add_in_one_pass` on this store's objects (one job: the order in which
        each list stops must be that of one pass). An object not in the store is skipped."""
        job = Job("add_readers", ([(list(oids), r) for oids, r in wanted],
                                  self.max_acl_entries))
        objects = sum(len(oids) for oids, _ in wanted)
        ((_, stopped),) = list(self._run([job], min(1, self._parallel(objects))))
        result: list[tuple[str | None, AclFull | None]] = stopped
        return result

    def stages_in_workers(self, files: int) -> bool:
        """Whether :meth:`stage_dirs` is worth it for this many files (else stage in-thread:
        sending them costs more, and in-thread adoption skips a known id's link)."""
        return self._parallel(files) > 0

    def stage_dirs(self, batch: IngestBatch, base_fd: int,
                   groups: Sequence[tuple[str, Sequence[str]]], *, adopt: bool,
                   owner_uid: int | None
                   ) -> Iterator[tuple[int, list[tuple[Staged, os.stat_result, bool]]]]:
        """Stage the names of each directory ``groups[i][0]`` (under ``base_fd``) on the
        workers (``jobs.stage_dirs``), then look each id up in ``batch``; yields ``(i, (what
        was staged, the file's stat as opened, whether the user's inode was adopted) per
        name)``. With ``owner_uid``, a file of another owner is refused unless it is the
        daemon's and already an object (``jobs.not_owned``)."""
        cuts = jobs.cut([len(names) for _, names in groups], self.workers)
        pending = (self._stage_job(base_fd, [groups[i] for i in cut], adopt, owner_uid)
                   for cut in cuts)
        for index, staged in self._run(pending, self.workers, on_dropped=self._drop_staged):
            batch.take_over(jobs.temps_of(staged))
            first = cuts[index].start
            accepted = iter(batch.accept([(oid, size, temp) for group in staged
                                          for _, oid, size, temp, _ in group
                                          if temp is not None]))
            for offset, group in enumerate(staged):
                names = groups[first + offset][1]
                yield first + offset, [self._accepted(batch, name, item, accepted, owner_uid)
                                       for name, item in zip(names, group, strict=True)]

    def _stage_job(self, base_fd: int, groups: Sequence[tuple[str, Sequence[str]]],
                   adopt: bool, owner_uid: int | None) -> Job:
        return Job("stage_dirs", ([d for d, _ in groups], [list(names) for _, names in groups],
                                  adopt, owner_uid), (os.dup(base_fd),))

    def _accepted(self, batch: IngestBatch, name: str, item: jobs.Stage,
                  accepted: Iterator[Staged], owner_uid: int | None
                  ) -> tuple[Staged, os.stat_result, bool]:
        how, oid, size, temp, st = item
        if temp is None:  # the daemon's own file: nothing new, if it is an object
            if owner_uid is None or not self.pin_existing(batch.lease, oid):
                raise jobs.not_owned(name, st, owner_uid or 0)
            return Staged(oid, size, new=False), st, False
        return next(accepted), st, how == "adopted"

    def _drop_staged(self, staged: list[list[jobs.Stage]]) -> None:
        for temp in jobs.temps_of(staged):
            self._layout.discard_temp(temp)

    def _parallel(self, files: int) -> int:
        return self.workers if files >= jobs.IN_THREAD_BELOW else 0

    def _run(self, pending: Iterable[Job], parallel: int,
             on_dropped: Callable[[Any], None] = lambda result: None
             ) -> Iterator[tuple[int, Any]]:
        if self._workers is None or parallel <= 0:
            return run_in_thread(pending, self._layout)
        return self._workers.run(pending, parallel, on_dropped)


def _by_fanout(oids: Iterable[str]) -> dict[str, list[str]]:
    by_fanout: dict[str, list[str]] = {}
    for oid in oids:
        by_fanout.setdefault(oid[:2], []).append(oid)
    return by_fanout


def _not_regular(oid: str) -> StoreCorrupt:
    return StoreCorrupt(
        f"object {oid} is not a regular file in the store",
        hint="the store was modified by hand; restore it from a backup",
    )

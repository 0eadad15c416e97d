"""Ingest batches: how bytes become objects, and the write ordering that makes them trustworthy.

The invariants (design.md section 5, rules 1-3), in the order things happen:

1. **Stage.** Each file's bytes go to a new private temp file in ``<store>/tmp``
   (same filesystem as ``objects/``), created O_EXCL 0600; the id is the
   BLAKE3 of the temp's own bytes, so it names what was stored even if the
   source changed meanwhile. The temp is then chmod 0444 (0400 in service
   mode, where readers are named by the object's ACL, ``acl.py``). A temp whose id is
   already an object (or already staged in this batch) is dropped at once.
2. **Durable.** ``commit()`` first makes every staged temp durable with one
   ``syncfs`` of the store filesystem: the batched form of one fsync per file.
3. **Visible.** Only then does each temp get its final name
   ``objects/ab/<62 hex>``, by ``link`` (which cannot replace an existing
   object) followed by unlinking the temp; if the name exists, the temp is
   simply dropped (deduplicated). The one exception is an object whose size
   is not its bytes' (written in place through a hardlink, by root or after
   a chmod): staging does not count it as stored, and publishing renames the
   good bytes over it (see ``StoreLayout.publish``).
4. **Names durable.** Each fan-out directory touched is fsynced, and
   ``objects/`` too if a fan-out directory was created.

So an object is visible only once its bytes are durable, and once
``commit()`` returns every staged id is a durable object. Callers may replace
a user's file by a link to an object only after that (rule 3, durability
before destruction). An exception inside ``with store.batch()`` or an
explicit ``abort()`` removes the temps: nothing appears under a final name.
A crash at any point before step 3 leaves only temps, which
``ObjectStore.open`` deletes. Objects are never modified in place.

**Pins** (``pins.py``): every id staged is pinned, under its fan-out lock,
before the batch looks whether the object exists, so gc can never unlink an
object the batch has decided to rely on. The pins belong to the lease the
caller passed (released when the version naming the objects has committed);
without one, the batch pins for its own lifetime only.

**Adoption** (single-user mode) skips the copy: the user's own inode becomes
the object. A read lease proves nobody writes the file while it is hashed and
made 0444 (see ``leases.py``); the temp is then a second hard link to the
user's file, and steps 2-4 apply unchanged. Its temp name records the
original mode so an abort, or the cleanup after a crash, can give the file
back as it was. The lease also keeps ``truncate`` away while the file is
mmap-hashed (a truncation under the mapping would be SIGBUS), but only for
``lease-break-time`` (45 s by default; at the hash speed measured here that
covers files of a few hundred GB).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType

from workspace.diskspace import space_errors
from workspace.errors import PermissionDenied, StoreCorrupt
from workspace.store.durability import fsync_dir, syncfs
from workspace.store.hashing import copy_and_hash, hash_fd, write_and_hash
from workspace.store.layout import StoreLayout, adopt_temp_name
from workspace.store.leases import lease_intact, leases_prepared, release_lease, take_read_lease
from workspace.store.pins import PinLease, Pins
from workspace.store.safefs import validate_name

# The user's name cannot be linked into the store: another filesystem, the
# link-count limit, protected_hardlinks, or the name vanished. Copy instead.
# Above this many fan-out directories, one syncfs is cheaper than fsyncing each (measured:
# 256 directory fsyncs took 0.4 s on this machine's disk; a syncfs after them, ~20 ms).
_FSYNC_DIRS_UP_TO = 16

_CANNOT_LINK = {errno.EXDEV, errno.EMLINK, errno.EPERM, errno.EACCES, errno.ENOENT}
STORE = "the store"


@dataclass(frozen=True)
class Staged:
    """One ingested file: its object id, its size, and whether this batch staged new bytes.

    ``new`` is as seen when the file was staged: True for the first file of
    this batch with bytes not known to be in the store (staged on a file
    worker, an id is not looked up before the commit). A concurrent batch may
    still publish the same bytes first, or they may be stored already; then
    this batch's copy is dropped at commit. Only :attr:`IngestBatch.published`
    says which objects this batch created.
    """

    oid: str
    size: int
    new: bool


class IngestBatch:
    """A group of files that become objects together, with one durability barrier.

    Use as ``with store.batch() as batch:``; leaving the block normally commits
    whatever is still staged, an exception aborts. Not thread-safe: use one
    batch per request.
    """

    def __init__(self, layout: StoreLayout, pins: Pins, lease: PinLease | None = None,
                 publish: Publisher | None = None) -> None:
        self._layout = layout
        self._publish = publish or (lambda pairs: publish_temps(layout, pairs))
        self._pins = pins
        self._own_lease = lease is None
        self.lease = lease if lease is not None else pins.lease()
        self._pending: dict[str, str] = {}  # oid -> temp name in tmp/
        self._loose: set[str] = set()  # temps a file worker handed over, not yet looked up
        self._staged_any = False
        self.published: set[str] = set()
        """Ids of the objects this batch created at commit (not those another batch made)."""

    def __enter__(self) -> IngestBatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.commit()
            else:
                self.abort()
        finally:
            if self._own_lease:
                self.lease.release()

    def ingest_copy(self, src_fd: int) -> Staged:
        """Stage a copy of the regular file open at ``src_fd``."""
        oid, size, temp = copy_to_temp(self._layout, src_fd)
        return self._remember(oid, size, temp)

    def ingest_verified(self, chunks: Iterable[bytes], *, expect: str, size: int) -> Staged:
        """Stage bytes that arrive in chunks (a download), only if they hash to ``expect``.

        Anything else is dropped before it can be published and raises
        StoreCorrupt with ``details`` {"oid": expect, "received": what they hash to}.
        """
        with space_errors(self._layout.tmp_fd, STORE, needed=size):
            temp, fd = self._layout.new_temp()
            try:
                oid, written = write_and_hash(chunks, fd, size)
                if oid != expect or written != size:
                    raise StoreCorrupt(
                        f"received bytes for object {expect} hash to {oid} ({written} bytes, "
                        f"expected {size}): refused", details={"oid": expect, "received": oid})
                os.fchmod(fd, self._layout.object_mode)
            except BaseException:
                os.close(fd)
                self._layout.discard_temp(temp)  # a full disk leaves no partial temp
                raise
        os.close(fd)
        return self._remember(oid, written, temp)

    def adopt(self, dir_fd: int, name: str, fd: int,
              st: os.stat_result | None = None) -> Staged | None:
        """Stage the user's file ``name`` in ``dir_fd`` (open O_RDONLY at ``fd``) as is.

        Returns None, changing nothing, when adoption is not safe or not
        possible (a writer, several links, an exec bit, another owner, another
        filesystem, leases unprepared); the caller then uses :meth:`ingest_copy`. With
        ``new=False`` the object already exists and the file keeps its mode;
        the caller replaces it with a link to the object after ``commit()``.
        ``st``: the caller's ``fstat(fd)``, if it has one (saves a second).
        """
        validate_name(name)
        st = os.fstat(fd) if st is None else st
        if not (leases_prepared() and _adoptable(st)) or not take_read_lease(fd):
            return None
        try:
            with space_errors(self._layout.tmp_fd, STORE):
                return self._adopt_leased(dir_fd, name, fd, st)
        finally:
            release_lease(fd)

    def take_over(self, temps: Iterable[str]) -> None:
        """Temps a file worker made in tmp/ (copies, or adopted files linked there under
        their lease: ``adopt_to_temp``) are this batch's from now: an abort removes them."""
        taken = list(temps)
        self._layout.track_temps(taken)
        self._loose.update(taken)

    def accept(self, staged: Sequence[tuple[str, int, str]]) -> list[Staged]:
        """Temps taken over, as (id, size, temp): each pending, its id pinned (under its
        fan-out lock, as gc unlinks under it; each lock taken once). Whether an object
        exists already is left to the publish, whose link finds the name taken and drops
        the temp (deduplicated): a lookup here was an lstat per file in the daemon's
        thread, the worker having linked the temp anyway. A second temp of an id already
        pending is dropped at once (an adopted file gets its mode back)."""
        accepted: list[Staged] = []
        fresh: dict[str, list[str]] = {}
        for oid, size, temp in staged:
            self._loose.discard(temp)
            if oid in self._pending:
                self._layout.discard_temp(temp)
                accepted.append(Staged(oid, size, new=False))
                continue
            self._pending[oid] = temp
            fresh.setdefault(oid[:2], []).append(oid)
            accepted.append(Staged(oid, size, new=True))
        self._staged_any |= bool(staged)
        for fanout, oids in fresh.items():
            with self._pins.fanout_lock(fanout):
                self.lease.pin_all(oids)
        return accepted

    def commit(self) -> None:
        """Make everything staged durable, then visible (see the module docstring)."""
        if not self._staged_any:
            return
        try:
            with space_errors(self._layout.objects_fd, STORE):
                self._commit()
        except BaseException:
            self.abort()  # what was not published yet must not linger in tmp/
            raise

    def _commit(self) -> None:
        # Even with nothing new, a deduplicated id may name an object that a concurrent
        # batch has just linked but not yet fsynced: this syncfs makes that name durable.
        syncfs(self._layout.tmp_fd)
        fanouts, created_fanout = self._publish_all()
        if len(fanouts) > _FSYNC_DIRS_UP_TO:
            syncfs(self._layout.objects_fd)  # one barrier beats hundreds of directory fsyncs
            fanouts = []
        for fanout_oid in fanouts:
            self._fsync_fanout(fanout_oid)
        if created_fanout:
            fsync_dir(self._layout.objects_fd)
        self._staged_any = False

    def abort(self) -> None:
        """Drop every temp not yet committed; adopted files get their mode back."""
        for temp in [*self._pending.values(), *self._loose]:
            self._layout.discard_temp(temp)
        self._pending.clear()
        self._loose.clear()
        self._staged_any = False

    def _remember(self, oid: str, size: int, temp: str) -> Staged:
        self._staged_any = True
        if self._known(oid, size):
            self._layout.discard_temp(temp)
            return Staged(oid, size, new=False)
        self._pending[oid] = temp
        return Staged(oid, size, new=True)

    def _known(self, oid: str, size: int) -> bool:
        """Pin ``oid``, then say whether it is an object already (or staged in this batch).
        An object of another size is damaged, not known."""
        if oid in self._pending:
            return True
        with self._pins.fanout_lock(oid):
            self.lease.pin(oid)
            stored = self._layout.lstat(oid)
            return stored is not None and stored.st_size == size

    def _adopt_leased(self, dir_fd: int, name: str, fd: int, st: os.stat_result) -> Staged | None:
        """The part of adoption that runs under the read lease; undoes the chmod unless staged."""
        oid = hash_fd(fd, st.st_size)
        os.fchmod(fd, 0o444)
        try:
            staged = self._stage_adopted(dir_fd, name, fd, oid, st)
        except BaseException:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
            raise
        if staged is None or not staged.new:
            os.fchmod(fd, stat.S_IMODE(st.st_mode))
        return staged

    def _stage_adopted(
        self, dir_fd: int, name: str, fd: int, oid: str, st: os.stat_result
    ) -> Staged | None:
        if not lease_intact(fd):  # someone opened it for writing while we hashed
            return None
        if self._known(oid, st.st_size):
            self._staged_any = True
            return Staged(oid, st.st_size, new=False)
        # No fsync here: the inode is linked into tmp/, so commit()'s one syncfs covers it.
        temp = self._link_adopted(dir_fd, name, oid, st)
        if temp is None:
            return None
        # Pinned and looked up just above (this batch is one thread's): no second lstat.
        self._staged_any = True
        self._pending[oid] = temp
        return Staged(oid, st.st_size, new=True)

    def _link_adopted(self, dir_fd: int, name: str, oid: str, st: os.stat_result) -> str | None:
        temp = _link_adopted(self._layout, dir_fd, name, oid, st)
        if temp is not None:
            self._layout.track_temp(temp)
        return temp

    def _publish_all(self) -> tuple[list[str], bool]:
        """Link every pending temp to its final name (``publish_temps``, on the store's file
        workers when there are many).

        Returns one oid per fan-out directory touched, and whether any fan-out
        directory had to be created.
        """
        pairs = sorted((oid, temp) for oid, temp in self._pending.items())
        created, created_fanout = self._publish([(temp, oid) for oid, temp in pairs])
        fanouts: dict[str, str] = {}
        for (oid, temp), made in zip(pairs, created, strict=True):
            self._layout.untrack(temp)  # a worker's publish untracked it in its own layout
            if made:
                self.published.add(oid)
            fanouts.setdefault(oid[:2], oid)
        self._pending.clear()  # published or dropped: an abort must no longer touch them
        return list(fanouts.values()), created_fanout

    def _fsync_fanout(self, oid: str) -> None:
        fd = self._layout.open_fanout(oid)
        try:
            fsync_dir(fd)
        finally:
            os.close(fd)


Publisher = Callable[[list[tuple[str, str]]], tuple[list[bool], bool]]
"""Publishes (temp, oid) pairs: whether each created its object, whether a fan-out
directory was created (``publish_temps``, or the same on the file workers)."""


def publish_temps(layout: StoreLayout, pairs: list[tuple[str, str]]) -> tuple[list[bool], bool]:
    """Give each temp its final name (``StoreLayout.publish``), one ``mkdir`` per fan-out
    directory, not per object; the caller stops tracking the temps."""
    created: list[bool] = []
    created_fanout = False
    seen: set[str] = set()
    for temp, oid in pairs:
        if oid[:2] not in seen:
            seen.add(oid[:2])
            created_fanout |= layout.ensure_fanout(oid)
        created.append(layout.publish(temp, oid))
    return created, created_fanout


def copy_to_temp(layout: StoreLayout, src_fd: int) -> tuple[str, int, str]:
    """Copy the regular file open at ``src_fd`` into a new temp while hashing the copy;
    ``(id, size, temp name)``. A failure (a full disk) leaves no temp."""
    st = os.fstat(src_fd)
    if not stat.S_ISREG(st.st_mode):
        raise PermissionDenied(
            "only regular files can be stored", hint="skip FIFOs, devices and directories"
        )
    with space_errors(layout.tmp_fd, STORE, needed=st.st_size):
        temp, fd = layout.new_temp()
        try:
            oid = copy_and_hash(src_fd, fd, st.st_size)
            size = os.fstat(fd).st_size
            os.fchmod(fd, layout.object_mode)
        except BaseException:
            os.close(fd)
            layout.discard_temp(temp)  # a full disk leaves no partial temp
            raise
    os.close(fd)
    return oid, size, temp


def adopt_to_temp(layout: StoreLayout, dir_fd: int, name: str, fd: int,
                  st: os.stat_result) -> tuple[str, str] | None:
    """Adoption without the store's pins (a file worker's part): under a read lease, hash
    the file, make it 0444, and link it into tmp/ under an adoption temp name; ``(id, temp
    name)``, or None with nothing changed when adoption is not safe (as :meth:`adopt`).
    The batch then looks the id up (:meth:`IngestBatch.accept`): a known id drops the temp
    and gives the file its mode back."""
    validate_name(name)
    if not (leases_prepared() and _adoptable(st)) or not take_read_lease(fd):
        return None
    temp: str | None = None
    try:
        with space_errors(layout.tmp_fd, STORE):
            oid = hash_fd(fd, st.st_size)
            os.fchmod(fd, 0o444)
            try:
                temp = _link_adopted(layout, dir_fd, name, oid, st) if lease_intact(fd) else None
            finally:
                if temp is None:  # a writer came, the name was swapped, or an error
                    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    finally:
        release_lease(fd)
    return None if temp is None else (oid, temp)


def _link_adopted(layout: StoreLayout, dir_fd: int, name: str, oid: str,
                  st: os.stat_result) -> str | None:
    """Hard-link the user's name into tmp/; None if it is not (any more) our inode."""
    temp = adopt_temp_name(oid, st.st_mode)
    try:
        os.link(name, temp, src_dir_fd=dir_fd, dst_dir_fd=layout.tmp_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _CANNOT_LINK:
            return None
        raise
    linked = os.stat(temp, dir_fd=layout.tmp_fd, follow_symlinks=False)
    if (linked.st_dev, linked.st_ino) != (st.st_dev, st.st_ino) or linked.st_nlink != 2:
        os.unlink(temp, dir_fd=layout.tmp_fd)  # the name was swapped, or gained another link
        return None
    return temp


def _adoptable(st: os.stat_result) -> bool:
    """Only a regular, non-executable file of ours with no other name can become an object.

    Executables are excluded because an object is 0444: adopting one would
    silently take away the user's exec bit.
    """
    return (
        stat.S_ISREG(st.st_mode)
        and st.st_mode & 0o111 == 0
        and st.st_uid == os.geteuid()
        and st.st_nlink == 1
    )

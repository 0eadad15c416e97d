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
from pathlib import Path
from types import TracebackType

from workspace.errors import NotFound, StoreCorrupt
from workspace.store.hashing import hash_fd
from workspace.store.ingest import IngestBatch
from workspace.store.layout import StoreLayout
from workspace.store.materialize import Method, link_into
from workspace.store.pins import PinLease, Pins


class ObjectStore:
    """An open store; create with :meth:`open`, release with :meth:`close`.

    ``link_count_limit`` (None: the filesystem's own) makes :meth:`link_into`
    copy once an object has that many links. Tests set it low to exercise the
    same fallback as a real ``EMLINK`` without creating 65,000 links on ext4.
    """

    def __init__(self, layout: StoreLayout) -> None:
        self._layout = layout
        self.link_count_limit: int | None = None
        self.pins = Pins()

    @classmethod
    def open(cls, root: Path) -> ObjectStore:
        """Open (creating if needed) the store at ``root``; deletes a crashed run's temps.

        Only one process may have a store open: the daemon's lock file ensures that.
        """
        return cls(StoreLayout.open(Path(root)))

    def close(self) -> None:
        """Release the store's directory fds; idempotent."""
        self._layout.close()

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
        with self.pins.fanout_lock(oid):
            lease.pin(oid)
            return self._layout.lstat(oid) is not None

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

    def batch(self, lease: PinLease | None = None) -> IngestBatch:
        """A new ingest batch; use it as a context manager (see ``ingest.py``).

        Staged objects are pinned in ``lease`` (kept after the batch, until the
        caller's version commits); without one, only while the batch runs.
        """
        return IngestBatch(self._layout, self.pins, lease)

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
        )


def _not_regular(oid: str) -> StoreCorrupt:
    return StoreCorrupt(
        f"object {oid} is not a regular file in the store",
        hint="the store was modified by hand; restore it from a backup",
    )

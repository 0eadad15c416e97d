"""Fetch on demand: objects a checkout needs that the store lacks, from the default remote.

The store is then a cache of the remote: a version whose objects were
dropped locally (``ws gc --evict``, or lost) is still checked out, its
missing objects downloaded and verified first (progress shown). Without a
default remote, or when the remote lacks the object too, nothing is fetched
and the checkout reports the missing object as before.
"""

from __future__ import annotations

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.db import Database
from workspace.db.queries import health as hq
from workspace.db.queries import remotes as rq
from workspace.remotes import inventory, transfer
from workspace.remotes.backend import RemoteOptions, open_backend
from workspace.remotes.url import parse_url
from workspace.store import ObjectStore
from workspace.workspaces.context import Reporter


class RemoteFetcher:
    """The ``ObjectSource`` of the daemon: the default remote, if one is configured."""

    def __init__(self, db: Database, store: ObjectStore, options: RemoteOptions) -> None:
        self._db = db
        self._store = store
        self._options = options

    def configured(self) -> bool:
        """Whether a default remote is set (else a checkout need not look for missing
        objects before linking: there is nowhere to fetch them from)."""
        with self._db.read() as session:
            return rq.default(session) is not None

    def fetch(self, caller: Caller, wanted: dict[str, int], reporter: Reporter) -> int:
        """Download what the default remote has of ``wanted``; how many objects came."""
        with self._db.read() as session:
            remote = rq.default(session)
            name, url = (remote.name, remote.url) if remote else (None, None)
        if name is None or url is None:
            return 0
        backend = open_backend(parse_url(url), self._options)
        held = inventory.objects(backend, self._options.concurrency)
        present = {oid: size for oid, size in wanted.items() if held.has(oid)}
        if not present:
            return 0
        reporter.start(len(present), sum(present.values()))
        tally = transfer.Tally(reporter.update)
        transfer.download(self._store, backend, present, held,
                          concurrency=self._options.concurrency, tally=tally)
        with self._db.write() as session:
            hq.clear_evicted(session, self._store.store_id,
                             [oid for oid in present if self._store.exists(oid)])
            record(session, actor=caller.name, action=Action.REMOTE_OBJECT_FETCH,
                   detail={"remote": name, "url": url, "objects": tally.objects,
                           "bytes": tally.bytes})
        return tally.objects

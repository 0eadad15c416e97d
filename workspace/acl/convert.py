"""Start-up: a store whose objects are 0444 (made before service mode had ACLs) is converted.

Conversion seeds the index from what the daemon already tracks (each tracked
path's files: the owner holds that dataset's objects; daemon-owned
single-link files that are not the object's inode are private copies), then
gives every object in the store its ACL from the index: one ``setxattr`` per
object sets the mode to 0400-plus-entries and names its readers at once.
Only then is the store marked converted, so a crash part-way simply starts
over at the next start (every step is idempotent). It runs before the daemon
listens: a few seconds per 100,000 objects, once.

A single-user daemon marks its store unconverted: the objects it makes are
0444 again, and the next service-mode start converts them.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from workspace.acl.copies import set_copies
from workspace.acl.core import AclCore, rewrite_objects
from workspace.acl.evaluate import Evaluator, UnixGroups
from workspace.acl.grants import ensure_holding
from workspace.acl.states import allowed, user
from workspace.audit import Action, record
from workspace.db import Database
from workspace.db.models_acl import AclStore
from workspace.db.queries import acl as q
from workspace.db.queries import datasets as dq
from workspace.db.queries import workspaces as wq
from workspace.db.queries.workspaces import CachedFile, WatchTarget
from workspace.errors import WorkspaceError
from workspace.store import ObjectStore, safefs
from workspace.store.acl import NOBODY, Readers

log = logging.getLogger("workspace.acl")


def convert_store(core: AclCore) -> bool:
    """Give every object its ACL if the store is not converted yet; True if it was done now."""
    with core.db.read() as session:
        if session.get_one(AclStore, core.store_id).converted:
            return False
    log.info("giving the store's objects POSIX ACLs (first start in service mode)")
    holdings = _seed_from_workspaces(core)
    with core.lock:
        groups, objects = UnixGroups(), 0
        for part in core.store.object_ids():
            objects += rewrite_objects(core, part, groups)
        copies = _rewrite_all_copies(core)
        with core.db.write() as session:
            q.settle_store(session, core.store_id)
            session.get_one(AclStore, core.store_id).converted = True
            if objects:  # a new, empty store has nothing to convert
                record(session, actor=core.actor, action=Action.ACL_STORE_CONVERT,
                       detail={"objects": objects, "holdings": holdings, "copies": copies})
    log.info("store converted: %d objects, %d holdings, %d copies", objects, holdings, copies)
    return True


def mark_unconverted(db: Database, store: ObjectStore) -> None:
    """Single-user mode: new objects are 0444; a later service start must convert again."""
    with db.write() as session:
        row = q.store_row(session, store.store_id)
        row.converted = False


def _seed_from_workspaces(core: AclCore) -> int:
    with core.db.read() as session:
        targets = wq.watch_targets(session)
        names = dq.dataset_names(session, {t.tracked.dataset_id for t in targets})
    ev = core.evaluator()
    for target in targets:
        if target.owner_uid is None:
            continue
        with core.db.read() as session:
            cache = wq.tracked_files(session, target.tracked.id)
        _seed_one(core, ev, target, names[target.tracked.dataset_id], cache)
    with core.db.read() as session:
        return q.counts(session, core.store_id)["holdings"]


def _seed_one(core: AclCore, ev: Evaluator, target: WatchTarget, dataset: str,
              cache: dict[str, CachedFile]) -> None:
    assert target.owner_uid is not None
    copies = _copies_in(core.store, target, cache)
    with core.lock, core.db.write() as session:
        row = ensure_holding(session, core, user(target.owner_uid), dataset, ev, "convert")
        q.add_objects(session, row.id, [c.oid for c in cache.values()])
        if copies:
            q.record_copies(session, row.id, target.owner_uid, target.workspace_path, copies)


def _copies_in(store: ObjectStore, target: WatchTarget,
               cache: dict[str, CachedFile]) -> list[q.CopyFile]:
    """Cached files that are not their object's inode, if they are the daemon's own files."""
    suspects = [(rel, row) for rel, row in cache.items() if not _is_object(store, row)]
    if not suspects:
        return []
    found = []
    try:
        root_fd = safefs.open_root(Path(target.workspace_path), owner_uid=target.owner_uid)
    except (WorkspaceError, OSError):
        return []  # the daemon cannot enter the workspace: its copies cannot be reached
    try:
        for rel, row in suspects:
            path = target.tracked.path if target.tracked.kind == "file" else (
                f"{target.tracked.path}/{rel}")
            st = safefs.lstat_at(root_fd, path)
            if st is not None and stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() \
                    and st.st_nlink == 1:
                found.append(q.CopyFile(path, row.executable, st.st_dev, st.st_ino))
    finally:
        os.close(root_fd)
    return found


def _is_object(store: ObjectStore, row: CachedFile) -> bool:
    obj = store.stat(row.oid)
    return obj is not None and obj.st_ino == row.ino


def _rewrite_all_copies(core: AclCore) -> int:
    with core.db.read() as session:
        rows = [(copy, holding) for holding in q.holdings(session, core.store_id)
                for copy in q.copies_of(session, holding.id)]
    readers = {copy.id: Readers(users=frozenset({copy.owner_uid}))
               if allowed(holding.state) else NOBODY for copy, holding in rows}
    unreachable = set_copies([copy for copy, _ in rows], readers)
    with core.db.write() as session:
        q.delete_copies(session, unreachable)
    return len(rows) - len(unreachable)

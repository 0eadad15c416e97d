"""Starting the object-ACL service with the daemon, and stopping it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from workspace.acl import convert, queue
from workspace.acl.core import AclCore
from workspace.acl.evaluate import Checker
from workspace.acl.service import KernelAcl
from workspace.acl.worker import AclWorker
from workspace.config import Settings
from workspace.db import Database
from workspace.store import ObjectStore

log = logging.getLogger("workspace.acl")


@contextmanager
def running(settings: Settings, db: Database, store: ObjectStore,
            checker: Checker) -> Iterator[KernelAcl | None]:
    """Service mode: convert, heal, start the worker; yields the service (None if single)."""
    if settings.mode != "service":
        convert.mark_unconverted(db, store)
        yield None
        return
    store.require_acl_support()
    core = AclCore.open(db, store, checker, batch_size=settings.acl_batch_size)
    convert.convert_store(core)
    healed = queue.heal_pending(core)
    if healed:
        log.info("rewrote the ACLs of %d object(s) an interrupted grant left pending", healed)
    queue.strip_released(core)
    worker = AclWorker(core, poll_interval=settings.acl_poll_interval,
                       refresh_interval=settings.acl_refresh_interval)
    worker.start()
    try:
        yield KernelAcl(core)
    finally:
        worker.close()

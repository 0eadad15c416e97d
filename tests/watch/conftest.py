"""The services in process, on a real store and a migrated SQLite database, with a watcher.

``sync.status`` with the watcher is compared against ``sync.status`` of the
same context without one (a full scan): the watcher may only be faster.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import database
from workspace.auth import Caller, bootstrap_admin
from workspace.db import Database, migrate
from workspace.store import ObjectStore, prepare_leases
from workspace.watch.workspaces import WorkspaceWatcher
from workspace.workspaces import commit, registry, sync
from workspace.workspaces.context import ServiceContext


@dataclass
class Service:
    ctx: ServiceContext
    caller: Caller
    home: Path
    root: Path
    watchers: list[WorkspaceWatcher] = field(default_factory=list)

    def watch(self, *, max_watches: int | None = None, wait: bool = True) -> WorkspaceWatcher:
        """Start a watcher (as the daemon does); ``wait`` until its first scans are done."""
        watcher = WorkspaceWatcher(self.ctx, state_dir=self.home / "watch", rescan_interval=0,
                                   max_watches=max_watches)
        self.watchers.append(watcher)
        self.ctx.watcher = watcher
        assert not wait or watcher.wait_idle()
        return watcher

    def watched_tree(self, *, dirs: int, files: int) -> tuple[Path, WorkspaceWatcher]:
        """``data/`` (``dirs`` x ``files``) added as t/data, and a watcher done scanning it."""
        data = self.root / "data"
        write_tree(data, dirs=dirs, files=files)
        self.add("data", "t/data")
        return data, self.watch()

    def add(self, relpath: str, dataset: str) -> None:
        commit.add(self.ctx, self.caller, path=str(self.root / relpath), dataset=dataset,
                   message="first")

    def commit(self, relpath: str) -> None:
        commit.commit(self.ctx, self.caller, path=str(self.root / relpath), message="more")

    def status(self) -> list[dict[str, Any]]:
        return list(sync.status(self.ctx, self.caller, path=str(self.root))["tracked"])

    def scanned_status(self) -> list[dict[str, Any]]:
        """What a full scan says (the same database and store, no watcher)."""
        plain = replace(self.ctx, watcher=None)
        return list(sync.status(plain, self.caller, path=str(self.root))["tracked"])


CHANGES = ("clean", "added", "modified", "deleted")


def changes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: e[k] for k in ("path", *CHANGES)} for e in entries]


@pytest.fixture
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """SQLite unless a test asks for ``postgresql`` (``indirect`` parametrization)."""
    home, root = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    root.mkdir()
    with database(getattr(request, "param", "sqlite"), home) as url:
        yield from _service(url, home, root)


def _service(url: str, home: Path, root: Path) -> Iterator[Service]:
    migrate(url)
    db = Database(url)
    store = ObjectStore.open(home / "store")
    previous = signal.getsignal(signal.SIGIO)
    prepare_leases()
    with db.write() as session:
        caller = bootstrap_admin(session, os.geteuid())
        registry.register(session, caller, str(root))
    made = Service(ServiceContext(db=db, store=store), caller, home, root)
    yield made
    for watcher in made.watchers:
        watcher.close()
    store.close()
    db.dispose()
    signal.signal(signal.SIGIO, previous)


def write_tree(root: Path, dirs: int, files: int) -> None:
    for d in range(dirs):
        (root / f"d{d}").mkdir(parents=True)
        for f in range(files):
            (root / f"d{d}" / f"f{f}.txt").write_text(f"{d}/{f}\n")


def rewrite(path: Path, text: str) -> None:
    """Edit a tracked file as a user would after ``ws unlock``: a private copy, then a write."""
    private = path.with_name(path.name + ".unlocked")
    private.write_bytes(path.read_bytes())
    os.replace(private, path)
    path.write_text(text)


@contextmanager
def reader_held(watcher: WorkspaceWatcher) -> Iterator[None]:
    """The inotify reader handles no event until the block ends, as when the machine is busy."""
    with watcher._hub.lock:  # the reader takes it for every event of a watched tree
        yield

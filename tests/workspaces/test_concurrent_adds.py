"""Two adds of the same bytes at once: only the one that publishes an object counts it new.

Both stage every file before either commits (a barrier in their progress
hooks), so both see the bytes as not yet stored. Whichever of the two
publishes an object (their commits may interleave) counts it new; the
other's copy is dropped, its file is relinked to that object, and its
summary counts it "deduplicated".
"""

from __future__ import annotations

import os
import threading
from typing import Any

from tests.workspaces.conftest import Services
from workspace.store import hash_bytes
from workspace.workspaces import commit
from workspace.workspaces.context import Reporter

FILES = 20


def _object_inode(services: Services, oid: str) -> int:
    st = services.ctx.store.stat(oid)
    assert st is not None
    return st.st_ino


def test_concurrent_adds_of_the_same_data_count_each_object_new_once(
        services: Services) -> None:
    roots = [services.workspace(name) for name in ("first", "second")]
    for root in roots:
        (root / "data").mkdir()
        for index in range(FILES):
            (root / "data" / f"f{index:02d}.bin").write_bytes(f"shared {index}\n".encode() * 50)
    both_staged = threading.Barrier(2, timeout=60)
    results: dict[int, Any] = {}

    def add(which: int) -> None:
        def progress(files: int, size: int) -> None:
            if files == FILES:
                both_staged.wait()  # neither commits before both have staged everything

        results[which] = commit.add(
            services.ctx, services.caller, path=str(roots[which] / "data"),
            dataset=f"overlap/n{which}", message="same bytes", reporter=Reporter(update=progress))

    threads = [threading.Thread(target=add, args=(which,)) for which in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(results) == {0, 1}

    summaries = [results[which].summary for which in (0, 1)]
    assert sum(s.new_objects for s in summaries) == FILES
    assert sum(s.deduplicated for s in summaries) == FILES
    assert sum(s.new_bytes for s in summaries) == sum(
        len(f"shared {i}\n".encode() * 50) for i in range(FILES))
    for root in roots:  # the loser's files were relinked to the winner's objects
        for path in sorted((root / "data").iterdir()):
            st = path.stat()
            assert st.st_ino == _object_inode(services, hash_bytes(path.read_bytes())), path
            assert st.st_nlink == 3 and st.st_mode & 0o777 == 0o444  # the object, two links
    assert os.listdir(services.ctx.store.root / "tmp") == []

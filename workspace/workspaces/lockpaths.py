"""Which dataset paths the workspace paths given to `ws lock` name.

Locks are on (dataset, path in the dataset); people name files in their
workspace. A path inside a tracked directory is its path in the dataset
(``""`` for the tracked directory itself: every file); a tracked file is the
dataset's one file, whatever it is called locally.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from workspace.auth import Caller
from workspace.db.queries import datasets as dq
from workspace.errors import InvalidInput
from workspace.workspaces import registry


def by_dataset(session: Session, caller: Caller, paths: Sequence[str]) -> dict[str, list[str]]:
    """Dataset name -> the paths in it that ``paths`` (absolute, in the caller's
    workspaces) name, in the order given."""
    found: dict[str, list[str]] = {}
    for path in paths:
        located = registry.locate(session, caller, path)
        if located.tracked is None:
            raise InvalidInput(f"{path} is not inside a tracked path",
                               hint="`ws status` lists tracked paths; or give --dataset")
        tracked = located.tracked
        name = dq.dataset_names(session, [tracked.dataset_id])[tracked.dataset_id]
        inner = located.inner or ""
        live = dq.live_entries(session, tracked.dataset_id) if tracked.kind == "file" else []
        if len(live) == 1:
            inner = live[0].path
        found.setdefault(name, []).append(inner)
    return found

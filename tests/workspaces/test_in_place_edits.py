"""Status notices an in-place edit of a linked file, whatever the stat cache was refreshed to.

An append changes a file's size, mtime and ctime, and keeps its inode. A
stat-cache row written after the edit (here: by the checkout that linked the
file, from the progress hook that runs while it links) has the new inode,
mtime and ctime; only its size, taken from the version and not from the
file, still tells. The services run as root here, so the 0444 link is
writable without a chmod, as for a root daemon with hardlinks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workspaces.conftest import Services
from workspace.errors import StoreCorrupt
from workspace.workspaces import commit, sync
from workspace.workspaces.context import Reporter


def _dataset(services: Services) -> Path:
    project = services.workspace("project")
    data = project / "data"
    data.mkdir()
    for name in ("a.csv", "b.csv"):
        (data / name).write_text(f"{name} 1\n")
    commit.add(services.ctx, services.caller, path=str(data), dataset="edit/me", message="v1")
    return project


def test_an_append_made_while_checkout_links_is_reported_modified(
        sqlite_services: Services) -> None:
    services = sqlite_services
    project = _dataset(services)
    target = project / "copy"

    def append_once_linked(files: int, size: int) -> None:
        if files == 2:
            with (target / "a.csv").open("a") as handle:
                handle.write("appended in place\n")

    sync.get(services.ctx, services.caller, ref="edit/me@1", path=str(target),
             reporter=Reporter(update=append_once_linked))

    (entry,) = sync.status(services.ctx, services.caller, path=str(target))["tracked"]
    assert entry["modified"] == ["a.csv"] and not entry["clean"]
    (data,) = sync.status(services.ctx, services.caller, path=str(project / "data"))["tracked"]
    assert data["modified"] == ["a.csv"]  # the same object, linked there too


def test_a_checkout_refuses_an_object_whose_size_changed(sqlite_services: Services) -> None:
    services = sqlite_services
    project = _dataset(services)
    with (project / "data" / "b.csv").open("a") as handle:  # the object itself, via its link
        handle.write("x\n")
    with pytest.raises(StoreCorrupt) as caught:
        sync.get(services.ctx, services.caller, ref="edit/me@1", path=str(project / "copy"))
    assert "damaged" in caught.value.message
    assert not (project / "copy" / "b.csv").exists()

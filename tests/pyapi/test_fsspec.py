"""`ws://` URLs through fsspec and pandas, and `ls`/`get`, in this test process.

The test process is a user of the daemon (root, granted reader), so these run
in process with the installed package: the ``fsspec.specs`` entry point is
what makes ``ws://`` known to fsspec and pandas here.
"""

from __future__ import annotations

import os

import fsspec
import pandas
import pytest

import workspace
from tests.pyapi.conftest import BLOB, CSV_V1, CSV_V2, World
from tests.support.runtime import Identity, Runtime
from workspace.client.fs import WorkspaceFileSystem
from workspace.errors import NotFound

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the daemon's users are real uids")


def _options(world: World) -> dict[str, str]:
    return {"socket": str(world.team.daemon.socket)}


def test_the_protocols_are_registered_by_the_entry_points() -> None:
    assert fsspec.get_filesystem_class("ws") is WorkspaceFileSystem
    assert fsspec.get_filesystem_class("workspace") is WorkspaceFileSystem


def test_pandas_reads_a_csv_at_a_version_an_alias_and_the_latest(world: World) -> None:
    world.team.ws("alice", "alias", "set", "vision/cats", "production", "2", "-m", "pyapi test")
    for url, expected in (("workspace://vision/cats@2/labels.csv", "tabby"),
                          ("workspace://vision/cats@production/labels.csv", "tabby"),
                          ("workspace://vision/cats/labels.csv", "siamese")):
        frame = pandas.read_csv(url, storage_options=_options(world))
        assert list(frame.columns) == ["name", "label"] and frame["label"][0] == expected, url
    with fsspec.open("ws://vision/cats@production/labels.csv", **_options(world)) as handle:
        assert pandas.read_csv(handle)["label"][0] == "tabby"


def test_fsspec_lists_describes_and_reads_ranges(world: World) -> None:
    fs = fsspec.filesystem("ws", **_options(world))
    assert sorted(fs.ls("vision/cats@2", detail=False)) == [
        "vision/cats@2/blob.bin", "vision/cats@2/labels.csv", "vision/cats@2/model.bin"]
    assert fs.info("ws://vision/cats@2/blob.bin")["size"] == len(BLOB)
    assert fs.cat_file("vision/cats@2/blob.bin", start=100, end=110) == BLOB[100:110]
    assert fs.cat("ws://vision/cats@3/labels.csv").decode() == CSV_V2
    with fs.open("vision/cats@2/labels.csv", "r") as handle:
        assert handle.read() == CSV_V1
    with pytest.raises(FileNotFoundError):
        fs.info("vision/cats@2/nope.csv")
    with pytest.raises(PermissionError):
        fs.open("vision/cats@2/labels.csv", "wb")


def test_ls_lists_typed_entries_and_get_checks_a_version_out(world: World,
                                                              runtime: Runtime) -> None:
    entries = workspace.ls("vision/cats@2", socket=world.team.daemon.socket)
    assert [(e.path, e.size) for e in entries][:2] == [("blob.bin", len(BLOB)),
                                                      ("labels.csv", len(CSV_V1))]
    with pytest.raises(NotFound):
        workspace.read_bytes("vision/cats@2", "missing.txt", socket=world.team.daemon.socket)
    root = Identity("root", 0, 0)
    project = runtime.make_dir(root, "ws-root")
    project.chmod(0o777)  # alice's single-user daemon must reach it
    world.team.daemon.ws("init", cwd=project, user=root)
    where = project / "from-python"
    result = workspace.get("vision/cats@2", where, socket=world.team.daemon.socket)
    assert result["pointer"]["version"] == 2
    assert (where / "labels.csv").read_text() == CSV_V1
    assert (where.parent / "from-python.ws").read_text().count("version = 2") == 1

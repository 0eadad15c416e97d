"""Materializing objects into a directory: hardlink first, a private copy when it must."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workspace.errors import InvalidInput, NotFound, StoreCorrupt
from workspace.store import ObjectStore, Placement, hash_bytes

from .conftest import MakeFile

DATA = b"object bytes\n"


@pytest.fixture
def oid(store: ObjectStore, ws: Path, make_file: MakeFile) -> str:
    fd = os.open(make_file(ws.parent / "source", DATA), os.O_RDONLY)
    with store.batch() as batch:
        staged = batch.ingest_copy(fd)
    os.close(fd)
    return staged.oid


def same_inode(a: Path, b: Path) -> bool:
    sa, sb = a.lstat(), b.lstat()
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def no_temps(directory: Path) -> bool:
    return not [n for n in os.listdir(directory) if n.startswith(".ws-tmp-")]


def test_hardlink_shares_the_objects_inode(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int
) -> None:
    assert store.link_into(oid, ws_fd, "f") == "hardlink"
    assert same_inode(ws / "f", store.object_path(oid))
    assert stat.S_IMODE((ws / "f").stat().st_mode) == 0o444
    assert no_temps(ws)


def test_an_existing_name_is_kept_unless_replace(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    make_file(ws / "f", b"the user's own file")
    with pytest.raises(FileExistsError):
        store.link_into(oid, ws_fd, "f")
    assert (ws / "f").read_bytes() == b"the user's own file"
    assert store.link_into(oid, ws_fd, "f", replace=True) == "hardlink"
    assert same_inode(ws / "f", store.object_path(oid))
    assert no_temps(ws)


def test_relinking_the_same_object_is_harmless(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int
) -> None:
    store.link_into(oid, ws_fd, "f")
    assert store.link_into(oid, ws_fd, "f", replace=True) == "hardlink"
    assert same_inode(ws / "f", store.object_path(oid))
    assert no_temps(ws)  # rename(2) onto the same inode is a no-op that leaves the temp


def test_a_symlink_at_the_name_is_replaced_not_followed(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    target = make_file(ws.parent / "precious", b"do not touch")
    (ws / "f").symlink_to(target)
    with pytest.raises(FileExistsError):
        store.link_into(oid, ws_fd, "f")
    store.link_into(oid, ws_fd, "f", replace=True)
    assert not (ws / "f").is_symlink()
    assert (ws / "f").read_bytes() == DATA
    assert target.read_bytes() == b"do not touch"


def test_executables_get_a_private_0755_copy(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int
) -> None:
    assert store.link_into(oid, ws_fd, "run.sh", executable=True) == "copy"
    assert not same_inode(ws / "run.sh", store.object_path(oid))
    assert stat.S_IMODE((ws / "run.sh").stat().st_mode) == 0o755
    assert (ws / "run.sh").read_bytes() == DATA
    assert stat.S_IMODE(store.object_path(oid).stat().st_mode) == 0o444


def test_prefer_copy_gives_a_writable_0644_copy(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    make_file(ws / "f", b"old")
    assert store.link_into(oid, ws_fd, "f", prefer="copy", replace=True) == "copy"
    assert stat.S_IMODE((ws / "f").stat().st_mode) == 0o644
    (ws / "f").write_bytes(b"edited")  # a private copy: the object is unaffected
    assert store.verify(oid)
    assert no_temps(ws)


def test_copy_without_replace_does_not_clobber(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    make_file(ws / "f", b"mine")
    with pytest.raises(FileExistsError):
        store.link_into(oid, ws_fd, "f", prefer="copy")
    assert (ws / "f").read_bytes() == b"mine"
    assert no_temps(ws)


def test_copy_when_the_link_count_limit_is_reached(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int
) -> None:
    store.link_count_limit = 2  # the object file itself is link 1
    assert store.link_into(oid, ws_fd, "first") == "hardlink"
    assert store.link_into(oid, ws_fd, "second") == "copy"
    assert (ws / "second").read_bytes() == DATA
    assert store.object_path(oid).stat().st_nlink == 2


def test_copy_across_filesystems(store: ObjectStore, oid: str, shm_dir: Path) -> None:
    if os.stat(shm_dir).st_dev == store.root.stat().st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the store here")
    dir_fd = os.open(shm_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert store.link_into(oid, dir_fd, "f") == "copy"
        assert store.link_into(oid, dir_fd, "f", replace=True) == "copy"
    finally:
        os.close(dir_fd)
    assert (shm_dir / "f").read_bytes() == DATA
    assert stat.S_IMODE((shm_dir / "f").stat().st_mode) == 0o644
    assert no_temps(shm_dir)


def test_unknown_object_and_bad_names(store: ObjectStore, oid: str, ws_fd: int) -> None:
    with pytest.raises(NotFound):
        store.link_into(hash_bytes(b"absent"), ws_fd, "f")
    for bad in ("a/b", "..", "", "."):
        with pytest.raises(InvalidInput):
            store.link_into(oid, ws_fd, bad)


def test_link_many_links_a_directory_and_never_clobbers(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int
) -> None:
    (ws / "taken").write_bytes(b"the user's own\n")
    (ws / "old").write_bytes(b"replace me\n")
    placements = [Placement("a", oid, len(DATA)), Placement("run", oid, len(DATA), True),
                  Placement("old", oid, len(DATA), replace=True), Placement("taken", oid),
                  Placement("never", oid)]
    done = []
    with pytest.raises(FileExistsError):
        for how, after in store.link_many(ws_fd, placements):
            done.append(how)
            assert after is not None
            assert after == os.lstat(ws / placements[len(done) - 1].name)
    assert done == ["hardlink", "copy", "hardlink"]
    assert same_inode(ws / "a", store.object_path(oid))
    assert same_inode(ws / "old", store.object_path(oid))
    assert (ws / "run").read_bytes() == DATA and (ws / "run").stat().st_mode & stat.S_IXUSR
    assert (ws / "taken").read_bytes() == b"the user's own\n"
    assert not (ws / "never").exists() and no_temps(ws)


def test_link_many_refuses_a_resized_object_before_linking(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int
) -> None:
    with pytest.raises(StoreCorrupt):
        list(store.link_many(ws_fd, [Placement("a", oid, len(DATA) + 1)]))
    assert not (ws / "a").exists()


def test_place_returns_the_stat_of_what_it_placed(
    store: ObjectStore, oid: str, ws: Path, ws_fd: int, make_file: MakeFile
) -> None:
    make_file(ws / "linked", b"user's own bytes")
    make_file(ws / "copied", b"user's own bytes")

    how, after = store.place(oid, ws_fd, "linked", size=len(DATA))
    assert how == "hardlink" and after is not None
    assert after == os.lstat(ws / "linked") and same_inode(ws / "linked", store.object_path(oid))

    store.link_count_limit = 1  # the object file itself is link 1: copy
    how, after = store.place(oid, ws_fd, "copied", size=len(DATA))
    assert how == "copy" and after is not None and after == os.lstat(ws / "copied")
    assert (ws / "copied").read_bytes() == DATA and no_temps(ws)

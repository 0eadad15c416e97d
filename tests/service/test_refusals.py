"""What the daemon refuses to ingest from a workspace, with nothing changed anywhere.

It runs as its own user with read access to alice's workspace (the ACL), and
more rights than alice over its store. So it takes only regular files that
alice owns: never a file of someone else's (even hardlinked into her tree), a
symlink, a FIFO (reading one would block) or a device node (opening one can
have side effects).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, inodes_of, run_python, store_objects

pytestmark = needs_root


def _foreign_file(data: Path, bob_file: Path, svc: int) -> None:
    (data / "bobs.txt").write_bytes(bob_file.read_bytes())
    os.chown(data / "bobs.txt", *_ids(bob_file))


def _daemons_file(data: Path, bob_file: Path, svc: int) -> None:
    """Owned by the daemon's user but not an object: not something the daemon put there."""
    (data / "planted.txt").write_bytes(os.urandom(100))
    os.chown(data / "planted.txt", svc, svc)


def _symlink(data: Path, bob_file: Path, svc: int) -> None:
    os.symlink(bob_file, data / "link.txt")


def _hardlink(data: Path, bob_file: Path, svc: int) -> None:
    os.link(bob_file, data / "hard.txt")  # root may; alice could not (protected_hardlinks)


def _fifo(data: Path, bob_file: Path, svc: int) -> None:
    os.mkfifo(data / "pipe")


def _device(data: Path, bob_file: Path, svc: int) -> None:
    os.mknod(data / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))


CASES: dict[str, tuple[Callable[[Path, Path, int], None], int, str]] = {
    "file owned by bob": (_foreign_file, 4, "owned by uid"),
    "daemon's file that is no object": (_daemons_file, 4, "owned by uid"),
    "symlink to bob's file": (_symlink, 2, "symlink"),
    "hardlink to bob's file": (_hardlink, 4, "owned by uid"),
    "fifo": (_fifo, 2, "special file"),
    "device node": (_device, 2, "special file"),
}


@pytest.fixture(scope="module")
def bob_file(runtime: Runtime, service: ServiceDaemon, bob: Identity) -> Path:
    """A private file of bob's, in his workspace: the daemon *can* read it (his ACL), so only
    its checks keep it out of alice's dataset."""
    project = home_of(runtime, bob)
    secret = project / "secret.txt"
    secret.write_bytes(b"bob's secret " + os.urandom(16).hex().encode())
    secret.chmod(0o600)
    give(project, bob)
    service.ws("init", cwd=project, user=bob)
    return secret


@pytest.mark.parametrize(("command", "case"), [
    *(("add", case) for case in CASES), ("commit", "file owned by bob"), ("commit", "fifo")])
def test_refused_and_nothing_changed(runtime: Runtime, service: ServiceDaemon,
                                     alice_user: Identity, bob_file: Path, case: str,
                                     command: str) -> None:
    plant, exit_code, says = CASES[case]
    project = home_of(runtime, alice_user)
    data = project / "data"
    data.mkdir()
    (data / "mine.txt").write_bytes(b"alice's own " + os.urandom(8).hex().encode())
    give(project, alice_user)
    service.ws("init", cwd=project, user=alice_user)
    dataset = f"refuse/{command}-{case.replace(' ', '-').replace(chr(39), '')}"
    if command == "commit":
        service.ws("add", "data", "-d", dataset, "-m", "v1", cwd=project, user=alice_user)
    plant(data, bob_file, service.owner.uid)
    before, bob_before = inodes_of(project), inodes_of(bob_file.parent)
    objects = store_objects(service.store)

    args = ["add", "data", "-d", dataset] if command == "add" else ["commit", "data"]
    refused = service.ws(*args, "-m", "try", cwd=project, user=alice_user, check=False)
    assert refused.returncode == exit_code, refused.stderr
    assert says in refused.stderr
    assert inodes_of(project) == before
    assert inodes_of(bob_file.parent) == bob_before
    assert store_objects(service.store) == objects
    versions = service.ws_json("log", dataset, cwd=project, user=alice_user)["versions"] \
        if command == "commit" else []
    assert [v["number"] for v in versions] == ([1] if command == "commit" else [])


def test_skipped_symlink_is_not_followed(runtime: Runtime, service: ServiceDaemon,
                                         alice_user: Identity, bob_file: Path) -> None:
    project = home_of(runtime, alice_user)
    data = project / "data"
    data.mkdir()
    (data / "mine.txt").write_bytes(b"mine")
    give(project, alice_user)
    _symlink(data, bob_file, 0)
    service.ws("init", cwd=project, user=alice_user)
    service.ws("add", "data", "-d", "refuse/skipped-link", "-m", "x", "--skip-symlinks",
               cwd=project, user=alice_user)
    listing = service.ws_json("ls", "refuse/skipped-link", cwd=project, user=alice_user)
    assert [f["path"] for f in listing["files"]] == ["mine.txt"]
    assert os.readlink(data / "link.txt") == str(bob_file)
    secret = bob_file.read_bytes()
    assert all(p.read_bytes() != secret for p in (service.store / "objects").rglob("*")
               if p.is_file())


def _ids(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_uid, st.st_gid


def test_daemons_links_moved_into_a_new_path_are_taken_as_they_are(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity) -> None:
    """Bob regroups files he checked out (links owned by the daemon) into a new dataset.

    They are not his, but they are objects already: deduplicated, not refused,
    not copied. (The same holds for links left by an operation that failed after
    relinking, before the version was recorded.)
    """
    alice_proj, bob_proj = home_of(runtime, alice_user), home_of(runtime, bob)
    (alice_proj / "data").mkdir()
    for name in ("a.bin", "b.bin"):
        (alice_proj / "data" / name).write_bytes(os.urandom(1000))
    give(alice_proj, alice_user)
    service.ws("init", cwd=alice_proj, user=alice_user)
    service.ws("add", "data", "-d", "regroup/all", "-m", "x", cwd=alice_proj, user=alice_user)
    service.ws("init", cwd=bob_proj, user=bob)
    service.ws("get", "regroup/all", "data", cwd=bob_proj, user=bob)
    objects = store_objects(service.store)
    run_python(runtime, bob, "import os, sys; os.mkdir(sys.argv[2]); "
               "os.rename(sys.argv[1] + '/a.bin', sys.argv[2] + '/a.bin')",
               str(bob_proj / "data"), str(bob_proj / "subset"))

    added = service.ws_json("add", "subset", "-d", "regroup/subset", "-m", "y", cwd=bob_proj,
                            user=bob)
    assert (added["summary"]["files"], added["summary"]["deduplicated"]) == (1, 1)
    assert store_objects(service.store) == objects
    assert (bob_proj / "subset" / "a.bin").lstat().st_ino == (
        alice_proj / "data" / "a.bin").lstat().st_ino

"""Two users share one stored copy: alice adds, bob gets the same inodes, read-only to him.

This is what DVC's shared cache cannot do on a multi-user server (its issue
#10057: the second user's hardlink checkout fails with "Operation not
permitted"). Every workspace here is private (0700 directories, 0600 files
inside a 0700 home): only the ACL that `ws init` grants lets the daemon in.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, attempts_on, run_python, store_objects

pytestmark = needs_root

FILES = {"labels.csv": b"name,label\ncat1,1\n", "images/a.bin": os.urandom(200_000),
         "images/b.bin": b"b" * 5000, "images/deep/c.bin": b"c" * 70}


def _private_data(project: Path, owner: Identity, files: dict[str, bytes] = FILES) -> Path:
    data = project / "data"
    for relpath, content in files.items():
        path = data / relpath
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(content)
        path.chmod(0o600)
    give(project, owner)
    return data


def _ino(path: Path) -> int:
    return path.lstat().st_ino


def test_bob_gets_alices_objects_read_only_and_unlock_is_private(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity) -> None:
    alice_proj, bob_proj = home_of(runtime, alice_user), home_of(runtime, bob)
    alice_data = _private_data(alice_proj, alice_user)
    init = service.ws("init", cwd=alice_proj, user=alice_user).stdout
    assert "wst-svc" in init and f"search access on {alice_proj.parent}" in init

    service.ws("add", "data", "-d", "shared/cats", "-m", "first cut", cwd=alice_proj,
               user=alice_user)
    labels = alice_data / "labels.csv"
    assert labels.lstat().st_uid == service.owner.uid and labels.lstat().st_nlink >= 2
    assert labels.read_bytes() == FILES["labels.csv"]
    stored = store_objects(service.store)

    service.ws("init", cwd=bob_proj, user=bob)
    got = service.ws_json("get", "shared/cats", "data", cwd=bob_proj, user=bob)
    assert got["summary"]["linked"] == len(FILES) and got["summary"]["copied"] == 0
    bob_data = bob_proj / "data"
    for relpath in FILES:
        assert _ino(bob_data / relpath) == _ino(alice_data / relpath), relpath
    assert store_objects(service.store) == stored  # nothing new on disk

    tried = attempts_on(runtime, bob, bob_data / "labels.csv", bob_proj / "mine.csv")
    assert tried == {"read": "ok", "write": "PermissionError", "chmod": "PermissionError",
                     "link": "PermissionError"}  # link: fs.protected_hardlinks
    assert not (bob_proj / "mine.csv").exists()

    service.ws("unlock", "data/labels.csv", cwd=bob_proj, user=bob)
    mine = bob_data / "labels.csv"
    assert mine.lstat().st_uid == bob.uid and _ino(mine) != _ino(labels)
    run_python(runtime, bob, "import sys; open(sys.argv[1], 'ab').write(b'x,0\\n')", str(mine))
    assert mine.read_bytes().endswith(b"x,0\n")
    assert labels.read_bytes() == FILES["labels.csv"]  # alice's copy, and the object, untouched
    assert store_objects(service.store) == stored


def test_second_users_checkout_links_dvc_10057(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity) -> None:
    """Bob checks out data alice added first: hardlinks, no "Operation not permitted", no copy.

    (A fresh clone has the pointer but no tracked path yet, so `ws get` is the first step.)
    """
    alice_proj, bob_proj = home_of(runtime, alice_user), home_of(runtime, bob)
    alice_data = _private_data(alice_proj, alice_user)
    service.ws("init", cwd=alice_proj, user=alice_user)
    service.ws("add", "data", "-d", "shared/dogs", "-m", "first", cwd=alice_proj,
               user=alice_user)
    service.ws("init", cwd=bob_proj, user=bob)
    shutil.copy(alice_proj / "data.ws", bob_proj / "data.ws")  # as `git clone` would bring it
    give(bob_proj / "data.ws", bob)

    result = service.ws_json("get", "shared/dogs@1", "data", cwd=bob_proj, user=bob)
    assert (result["summary"]["linked"], result["summary"]["copied"]) == (len(FILES), 0)
    for relpath in FILES:
        assert _ino(bob_proj / "data" / relpath) == _ino(alice_data / relpath)
        assert (bob_proj / "data" / relpath).read_bytes() == FILES[relpath]


def test_same_bytes_added_by_another_user_are_linked_not_stored_twice(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity) -> None:
    """Bob adds his own copy of alice's data: deduplicated, his files become the shared inodes."""
    files = {"a.txt": b"shared bytes " * 100, "b.txt": b"more shared bytes"}
    alice_proj, bob_proj = home_of(runtime, alice_user), home_of(runtime, bob)
    alice_data = _private_data(alice_proj, alice_user, files)
    bob_data = _private_data(bob_proj, bob, files)
    service.ws("init", cwd=alice_proj, user=alice_user)
    service.ws("add", "data", "-d", "shared/birds", "-m", "alice's", cwd=alice_proj,
               user=alice_user)
    stored = store_objects(service.store)
    service.ws("init", cwd=bob_proj, user=bob)

    added = service.ws_json("add", "data", "-d", "bob/birds", "-m", "bob's", cwd=bob_proj,
                            user=bob)
    assert added["summary"]["deduplicated"] == len(files)
    assert store_objects(service.store) == stored
    for name in files:
        assert _ino(bob_data / name) == _ino(alice_data / name)
        # 0400 plus an ACL naming both readers (the mask shows in the group bits: r--r-----)
        assert stat.S_IMODE((bob_data / name).lstat().st_mode) == 0o440
        assert _object_readers(bob_data / name) == {alice_user.uid, bob.uid}


def test_deinit_takes_the_grant_back(runtime: Runtime, service: ServiceDaemon,
                                     bob: Identity) -> None:
    project = home_of(runtime, bob)
    _private_data(project, bob)
    service.ws("init", cwd=project, user=bob)
    assert "user:wst-svc" in _acl_text(project)
    service.ws("deinit", cwd=project, user=bob)
    assert "wst-svc" not in _acl_text(project) and "wst-svc" not in _acl_text(project.parent)
    assert "wst-svc" not in _acl_text(project / "data" / "labels.csv")
    refused = service.ws("status", cwd=project, user=bob, check=False)
    assert refused.returncode == 3 and "ws init" in refused.stderr


def _object_readers(path: Path) -> set[int]:
    from workspace.store import acl as object_acl

    return set(object_acl.read(str(path)).users)


def _acl_text(path: Path) -> str:
    from workspace.cli import acl

    found = []
    for name in (acl.ACCESS, acl.DEFAULT):
        try:
            entries = acl.decode(os.getxattr(path, name, follow_symlinks=False))
        except OSError:
            continue
        found += [f"user:{_user_name(ident)}" for (tag, ident) in entries if tag == acl.USER]
    return " ".join(found)


def _user_name(uid: int) -> str:
    import pwd

    return pwd.getpwuid(uid).pw_name


def test_deinit_refuses_tracked_paths_without_force(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity) -> None:
    project = home_of(runtime, alice_user)
    _private_data(project, alice_user, {"x.txt": b"x"})
    service.ws("init", cwd=project, user=alice_user)
    service.ws("add", "data", "-d", "alice/deinit", "-m", "x", cwd=project, user=alice_user)
    refused = service.ws("deinit", cwd=project, user=alice_user, check=False)
    assert refused.returncode == 5 and "--force" in refused.stderr
    done = service.ws("deinit", "--force", cwd=project, user=alice_user).stdout
    assert "no longer tracked" in done and "data" in done
    assert (project / "data" / "x.txt").read_bytes() == b"x"

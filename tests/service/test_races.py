"""A workspace subdirectory swapped for a symlink while the daemon works in it.

The daemon may write in bob's workspace (bob granted it) and may read /etc.
Alice, racing it, keeps replacing her subdirectories with symlinks to bob's
workspace and to /etc while the daemon ingests (commit) and links (checkout)
in her workspace. Whatever each operation's outcome, nothing outside alice's
workspace may be created, changed or read: bob's tree is identical inode for
inode, /etc gains none of her names, and no stored object holds bob's or
/etc's bytes.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.service.conftest import home_of, needs_root
from tests.support.daemon import as_user, give
from tests.support.runtime import Identity, Runtime
from tests.support.service import ServiceDaemon, inodes_of, store_objects

pytestmark = needs_root

SUBDIRS = ("d0", "d1", "d2", "d3")
ROUNDS = 3

SWAPPER = r"""
import os, random, sys, time
base, stop, started, *targets = sys.argv[1:]
names = sorted(n for n in os.listdir(base) if n.startswith("d"))
swaps = rounds = 0
def pause():
    time.sleep(random.random() / 500)
while not os.path.exists(stop):
    target = targets[rounds % len(targets)]
    rounds += 1
    swapped = []
    for name in names:  # every subdirectory at once: a symlink, then real again
        path, aside = os.path.join(base, name), os.path.join(base, "." + name + ".aside")
        try:
            os.rename(path, aside)
        except OSError:
            continue
        swapped.append((path, aside))
        try:
            os.symlink(target if target == "/etc" else os.path.join(target, name), path)
        except OSError:
            pass
    swaps += sum(os.path.islink(path) for path, _ in swapped)
    if swaps and not os.path.exists(started):
        open(started, "w").close()
    pause()
    for path, aside in swapped:
        try:
            if os.path.islink(path):
                os.unlink(path)
            os.rename(aside, path)
        except OSError:
            pass  # the daemon made a new directory there meanwhile: keep both
    pause()
print(swaps)
"""


def _tree(root: Path, owner: Identity, marker: bytes, names: list[str]) -> None:
    """The same names in alice's and bob's trees: a followed symlink would hit bob's files."""
    for sub in SUBDIRS:
        (root / sub).mkdir(parents=True)
        for name in names:
            (root / sub / name).write_bytes(marker + os.urandom(1000))
    give(root, owner)


@contextmanager
def _swapping(runtime: Runtime, who: Identity, base: Path, targets: list[str]) -> Iterator[None]:
    signals = runtime.make_dir(who, "swapper")
    stop, started = signals / "stop", signals / "started"
    proc = subprocess.Popen([runtime.python, "-c", SWAPPER, str(base), str(stop), str(started),
                             *targets], stdout=subprocess.PIPE, text=True, cwd="/",
                            **as_user(runtime, who))
    try:
        while not started.exists():  # at least one swap before the daemon starts work
            assert proc.poll() is None, f"the swapper died: {proc.communicate()}"
            time.sleep(0.01)
        yield
    finally:
        stop.touch()
        out, _ = proc.communicate(timeout=30)
        assert int(out) >= 1


def _etc_snapshot() -> tuple[tuple[int, bytes], set[str]]:
    hostname = Path("/etc/hostname")
    return (hostname.lstat().st_ino, hostname.read_bytes()), set(os.listdir("/etc"))


def test_swapped_subdirectories_never_lead_outside(
        runtime: Runtime, service: ServiceDaemon, alice_user: Identity, bob: Identity) -> None:
    alice_proj, bob_proj = home_of(runtime, alice_user), home_of(runtime, bob)
    data = alice_proj / "data"
    news = [f"new-{number}.bin" for number in range(ROUNDS)]
    _tree(data, alice_user, b"alice's ", ["hostname", "f.bin"])
    _tree(bob_proj, bob, b"bob's secret ", ["hostname", "f.bin", *news])
    service.ws("init", cwd=bob_proj, user=bob)  # the daemon may now write in bob's workspace
    service.ws("init", cwd=alice_proj, user=alice_user)
    service.ws("add", "data", "-d", "race/alice", "-m", "v1", cwd=alice_proj, user=alice_user)
    bob_before, (etc_host, etc_names) = inodes_of(bob_proj), _etc_snapshot()
    outsiders = {f.read_bytes() for f in bob_proj.rglob("*") if f.is_file()}
    outsiders.add(Path("/etc/hostname").read_bytes())

    for number in range(ROUNDS):
        for sub in SUBDIRS:
            new = data / sub / news[number]
            new.write_bytes(os.urandom(2000))
            give(new, alice_user)
        with _swapping(runtime, alice_user, data, [str(bob_proj), "/etc"]):
            service.ws("commit", "data", "-m", f"round {number}", cwd=alice_proj,
                       user=alice_user, check=False)  # ingest and relink
            for ref in ("race/alice@1", "race/alice") * 2:  # remove, then link new-*.bin
                service.ws("checkout", "data", "--ref", ref, "--force", cwd=alice_proj,
                           user=alice_user, check=False)

    assert inodes_of(bob_proj) == bob_before
    host, names = _etc_snapshot()
    assert host == etc_host
    ours = {n for n in names - etc_names
            if n.startswith((".ws-tmp-", "new-")) or n in {"f.bin", *SUBDIRS}}
    assert ours == set()
    objects = service.store / "objects"
    for oid in store_objects(service.store):
        assert (objects / oid[:2] / oid[2:]).read_bytes() not in outsiders

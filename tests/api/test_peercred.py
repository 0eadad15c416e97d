"""Peer credentials come from the socket: the groups the connecting process held at connect.

Each case runs in a child process (as root it may ``setgroups`` there without
touching the test process), connects one end of a socket pair, changes its
groups afterwards, and reads the peer with ``peer_of`` from the other end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workspace.api.peercred import Peer
from workspace.api.ttlcache import TtlCache

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="setgroups needs root")

_PEER_OF = r"""
import json, os, socket, sys
from workspace.api.peercred import peer_of
groups = json.loads(sys.argv[1])
os.setgroups(groups)
ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)  # creds fixed here
os.setgroups([])  # what the process holds later does not matter
peer = peer_of(ours)
print(json.dumps({"pid": peer.pid, "uid": peer.uid, "gid": peer.gid,
                  "groups": list(peer.groups), "me": os.getpid()}))
"""


def _peer_seen_with(groups: list[int]) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", _PEER_OF, json.dumps(groups)],
                          capture_output=True, text=True, timeout=60, check=True)
    found: dict[str, object] = json.loads(proc.stdout)
    return found


@needs_root
def test_the_groups_are_those_held_at_connect() -> None:
    seen = _peer_seen_with([27, 100])
    assert seen["groups"] == [27, 100]
    assert (seen["pid"], seen["uid"], seen["gid"]) == (seen["me"], 0, os.getgid())


@needs_root
def test_many_groups_are_read_whole() -> None:
    """More groups than the first buffer holds: the kernel says ERANGE and we ask again."""
    many = list(range(70_000, 70_000 + 1000))
    assert _peer_seen_with(many)["groups"] == many


@needs_root
def test_no_supplementary_groups_is_an_empty_tuple() -> None:
    assert _peer_seen_with([])["groups"] == []


def test_the_caller_cache_tells_apart_peers_that_differ_only_in_groups() -> None:
    """The same pid, uid and gid with other groups is another identity, never a cache hit."""
    cache: TtlCache[Peer, str] = TtlCache()
    cache.put(Peer(100, 1000, 1000, (27,)), "member of 27")
    assert cache.get(Peer(100, 1000, 1000, ())) is None
    assert cache.get(Peer(100, 1000, 1000, (27,))) == "member of 27"

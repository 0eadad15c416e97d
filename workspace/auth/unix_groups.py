"""The Unix groups of a socket peer, as policy subjects (``group:NAME``).

The kernel gives us the peer's pid, uid and primary gid (SO_PEERCRED); its
supplementary groups are read from ``/proc/PID/status`` while the connection
is open. If the process is gone, the account's groups from the group
database are the next best answer.
"""

from __future__ import annotations

import grp
import os
import pwd


def peer_groups(pid: int, uid: int, gid: int) -> tuple[str, ...]:
    gids = _process_gids(pid)
    if gids is None:
        gids = _account_gids(uid, gid)
    gids.add(gid)
    return tuple(sorted(f"group:{name}" for name in (_group_name(g) for g in gids) if name))


def _process_gids(pid: int) -> set[int] | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Groups:"):
                    return {int(g) for g in line.split()[1:]}
    except (OSError, ValueError):
        return None
    return set()


def _account_gids(uid: int, gid: int) -> set[int]:
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return set()
    return set(os.getgrouplist(name, gid))


def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None

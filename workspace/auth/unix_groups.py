"""The Unix groups of a socket peer, as policy subjects (``group:NAME``).

The gids come from the socket itself (``SO_PEERCRED`` and ``SO_PEERGROUPS``,
read at accept by ``api/peercred.py``): the groups the connecting process had
when it called ``connect()``. Never from ``/proc/PID/status``, where the PID
may by then name another user's process, and never from the account
database, which says what a login *would* get, not what this process holds
(a process may have dropped groups, e.g. with ``sg`` or ``setgroups``).
"""

from __future__ import annotations

import grp
from collections.abc import Iterable


def group_subjects(gid: int, supplementary: Iterable[int]) -> tuple[str, ...]:
    """``group:NAME`` for the primary and every supplementary gid that has a name."""
    names = (_group_name(g) for g in {gid, *supplementary})
    return tuple(sorted(f"group:{name}" for name in names if name))


def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None

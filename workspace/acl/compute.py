"""An object's readers as a function of the index: the holdings that contain it, and their states.

Every ACL the daemon writes on an object is computed here from committed
rows, never patched from what is on disk, so rewriting an object is always
safe to repeat (after a crash, twice, concurrently with nothing: callers hold
the service's lock). A user reads if a holding of theirs allows it; a group
reads if a holding of it allows it; a user listed in a reading group's mask
gets ``user:UID:---`` unless some other allowed holding lets them read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from workspace.acl.states import allowed, masked
from workspace.db.queries.acl import Claim
from workspace.posixacl import GROUP, USER
from workspace.store.acl import NOBODY, Readers

Membership = Callable[[int, int], bool]
"""``member(uid, gid)``: is the user in the Unix group (asked only when a mask applies)."""


def readers_of(oids: Iterable[str], claims: Iterable[Claim],
               member: Membership) -> dict[str, Readers]:
    """The readers of each of ``oids`` (NOBODY for one no allowed holding contains)."""
    by_oid: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_oid[claim.oid].append(claim)
    known: dict[frozenset[tuple[int, int, str]], Readers] = {}  # objects share their holders
    found = {}
    for oid in oids:
        mine = by_oid.get(oid, [])
        key = frozenset((c.tag, c.ident, c.state) for c in mine)
        if key not in known:
            known[key] = _readers(mine, member)
        found[oid] = known[key]
    return found


def _readers(claims: list[Claim], member: Membership) -> Readers:
    live = [c for c in claims if allowed(c.state)]
    if not live:
        return NOBODY
    users = frozenset(c.ident for c in live if c.tag == USER)
    groups = [c for c in live if c.tag == GROUP]
    candidates = set().union(*(masked(c.state) for c in groups)) - users
    blocked = frozenset(uid for uid in candidates
                        if not any(member(uid, g.ident) and uid not in masked(g.state)
                                   for g in groups))
    return Readers(users, frozenset(g.ident for g in groups), blocked)

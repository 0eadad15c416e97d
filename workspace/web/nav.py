"""The navigation bar: which sections a user is shown, decided by the policy, not a template.

A link is shown only when its page would let the user in, so a reader never
sees an "Admin" link that answers 403. New sections (store usage once
``ws du`` exists) join ``SECTIONS`` with the check their page requires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workspace.api.access import Access
from workspace.api.resources import ADMIN_AUDIT, ADMIN_POLICY, ADMIN_USERS
from workspace.auth import Caller
from workspace.web.render import query_string


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str  # below the dashboard's root, e.g. "/datasets"


Allowed = Callable[[str, str], bool]  # (action, resource) -> may the caller?


def _audit(caller: Caller, allowed: Allowed) -> str:
    """Admins see the whole log; everyone else opens it on their own events."""
    if allowed("admin", ADMIN_AUDIT):
        return "/audit"
    return "/audit?" + query_string({"user": caller.name})


SECTIONS: list[tuple[str, Callable[[Caller, Allowed], str | None]]] = [
    ("Datasets", lambda caller, allowed: "/datasets"),
    ("Audit", _audit),
    ("Users", lambda caller, allowed: "/admin/users" if allowed("admin", ADMIN_USERS) else None),
    ("Policy", lambda caller, allowed: "/admin/policy" if allowed("admin", ADMIN_POLICY)
     else None),
]


def nav_for(caller: Caller, access: Access) -> list[NavItem]:
    def may(action: str, resource: str) -> bool:
        return allowed(caller, access, action, resource)

    items = [(label, href(caller, may)) for label, href in SECTIONS]
    return [NavItem(label, href) for label, href in items if href is not None]


def allowed(caller: Caller, access: Access, action: str, resource: str) -> bool:
    """Whether to offer a link: the policy's answer (no policy engine: offer nothing)."""
    authorizer = access.authorizer
    if authorizer is None:
        return False
    return authorizer.check(caller.name, caller.groups, resource, action).allowed

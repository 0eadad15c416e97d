"""Throttling password logins per (name, client address), with a ceiling per name.

Per name **and client address** (``client_key``): after n failures in a row
the next attempt from that address waits ``min(base * 2**(n-1), cap)`` (1 s,
2 s, 4 s ... 15 min); after ``lockout_after`` (100) failures that address is
locked out of that name until an admin unlocks it (``ws user unlock``).
Someone guessing from one address therefore slows down only themselves: the
real user, from another address, logs in at once.

Per **name**, over every address together: after ``name_lockout_after``
(1,000) failures since the name's last successful login, the name is locked
for everyone until an admin unlocks it. That bounds what a guesser with many
addresses can try (each address needs about a day for its first hundred
guesses), at the price that such a guesser can lock the name.

Three rules keep it honest:

- **Every name is throttled**, known or not, with the same rows and the same
  messages, so probing cannot tell which accounts exist.
- **An attempt is counted before the password is checked** (``claim``), in
  its own short write transaction holding the rows' locks: parallel guesses
  cannot all slip through one back-off window, and no transaction stays open
  while argon2 runs. A success then clears the address's and the name's
  counts (``succeeded``); other addresses keep theirs.
- **State is in the database**, so daemons sharing it share the limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy.orm import Session

from workspace.db.models_auth import LoginThrottle
from workspace.db.queries import credentials
from workspace.errors import AuthenticationRequired

ALL_CLIENTS = "*"
"""The ``client`` of a name's overall row."""
_MAX_CLIENT = 64


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=15)
    lockout_after: int = 100
    """Failures in a row from one address that lock that address out of the name."""
    name_lockout_after: int = 1000
    """Failures in a row from all addresses together that lock the name."""
    forget_after: timedelta = timedelta(days=1)
    """An unlocked row idle this long starts again from zero (see ``prune``)."""

    def delay(self, failures: int) -> timedelta:
        """How long to wait after ``failures`` failures in a row before the next attempt."""
        if failures <= 0:
            return timedelta(0)
        if failures > 32:  # 2**31 seconds is far past any cap; avoid huge numbers
            return self.cap
        grown: timedelta = self.base * 2 ** (failures - 1)
        return min(grown, self.cap)


DEFAULT_POLICY = ThrottlePolicy()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an attempt was not even tried: still backing off, or locked (here or for all)."""

    locked: bool
    retry_after: int
    everywhere: bool = False

    def error(self) -> AuthenticationRequired:
        if self.everywhere:
            return AuthenticationRequired(
                "too many failed logins for this name from many addresses: it is locked",
                hint="ask an admin of this server to unlock it (`ws user unlock NAME`)")
        if self.locked:
            return AuthenticationRequired(
                "too many failed logins for this name from this address: it is locked here",
                hint="ask an admin of this server to unlock it (`ws user unlock NAME`)")
        return AuthenticationRequired(
            f"too many failed logins: wait {self.retry_after} s before trying this name again "
            "from this address",
            hint="each failure doubles the wait (up to 15 minutes)",
            details={"retry_after": self.retry_after},
        )


def client_key(host: str | None, *, peer_uid: int | None = None) -> str:
    """Who the attempts come from: ``uid:N`` on the Unix socket, else the IP address (an
    IPv6 address by its /64, which one host usually holds whole)."""
    if peer_uid is not None:
        return f"uid:{peer_uid}"
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"host:{host}"[:_MAX_CLIENT]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def claim(session: Session, name: str, client: str, *, now: datetime,
          policy: ThrottlePolicy = DEFAULT_POLICY) -> Refusal | None:
    """Count an attempt for ``name`` from ``client`` now, or say why it must not be made.

    The caller commits either way (the refusal may have set ``locked``) and
    raises ``Refusal.error()`` only after committing.
    """
    whole, here = _rows(session, name, client, now)
    if whole.locked or whole.failures >= policy.name_lockout_after:
        whole.locked = True
        return Refusal(locked=True, retry_after=0, everywhere=True)
    if here.locked or here.failures >= policy.lockout_after:
        here.locked = True
        return Refusal(locked=True, retry_after=0)
    wait = here.last_failure_at + policy.delay(here.failures) - now
    if here.failures and wait > timedelta(0):
        return Refusal(locked=False, retry_after=ceil(wait.total_seconds()))
    for row in (whole, here):
        row.failures += 1
        row.last_failure_at = now
    session.flush()
    return None


def failed(session: Session, name: str, client: str, *, now: datetime,
           policy: ThrottlePolicy = DEFAULT_POLICY) -> None:
    """The claimed attempt failed: it stays counted; lock at the limits."""
    whole, here = _rows(session, name, client, now)
    whole.locked = whole.locked or whole.failures >= policy.name_lockout_after
    here.locked = here.locked or here.failures >= policy.lockout_after
    session.flush()


def succeeded(session: Session, name: str, client: str) -> None:
    """The claimed attempt succeeded: forget this address's and the name's failures."""
    credentials.clear_throttle(session, name, [ALL_CLIENTS, client])


def unlock(session: Session, name: str) -> list[str]:
    """Admin action: forget every lock and count of ``name``; the clients it had rows for
    (``ALL_CLIENTS`` among them if the name had failures at all)."""
    clients = [row.client for row in credentials.throttle_rows(session, name)]
    credentials.clear_throttle(session, name)
    return clients


def state(session: Session, name: str, client: str = ALL_CLIENTS) -> LoginThrottle | None:
    """The failure record of ``name`` from ``client`` (default: overall), for an admin."""
    return credentials.throttle_row(session, name, client)


def states(session: Session, name: str) -> Sequence[LoginThrottle]:
    return credentials.throttle_rows(session, name)


def prune(session: Session, *, now: datetime, policy: ThrottlePolicy = DEFAULT_POLICY) -> int:
    """Forget unlocked rows idle for ``forget_after`` (keeps guessed names from piling up)."""
    return credentials.prune_throttle(session, before=now - policy.forget_after)


def _rows(session: Session, name: str, client: str,
          now: datetime) -> tuple[LoginThrottle, LoginThrottle]:
    if client == ALL_CLIENTS:
        raise ValueError("a client address cannot be the overall row's '*'")
    whole, here = credentials.throttle_rows_for_update(session, name, [ALL_CLIENTS, client],
                                                       now=now)
    return whole, here

"""Per-name throttling of password logins: exponential back-off, then lockout.

After n failures in a row the next attempt for that name waits
``min(base * 2**(n-1), cap)`` (1 s, 2 s, 4 s ... 15 min); after
``lockout_after`` failures the name is locked until an admin unlocks it.

Three rules keep it honest:

- **Every name is throttled**, known or not, with the same rows and the same
  messages, so probing cannot tell which accounts exist.
- **An attempt is counted before the password is checked** (``claim``), in
  its own short write transaction holding the row lock: parallel guesses
  cannot all slip through one back-off window, and no transaction stays open
  while argon2 runs. A success then clears the count (``succeeded``).
- **State is in the database**, so daemons sharing it share the limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy.orm import Session

from workspace.db.models_auth import LoginFailure
from workspace.db.queries import credentials
from workspace.errors import AuthenticationRequired


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=15)
    lockout_after: int = 100
    forget_after: timedelta = timedelta(days=1)
    """An unlocked name idle this long starts again from zero (see ``prune``)."""

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
    """Why an attempt was not even tried: still backing off, or locked."""

    locked: bool
    retry_after: int

    def error(self) -> AuthenticationRequired:
        if self.locked:
            return AuthenticationRequired(
                "too many failed logins: this name is locked",
                hint="ask an admin of this server to unlock it",
            )
        return AuthenticationRequired(
            f"too many failed logins: wait {self.retry_after} s before trying this name again",
            hint="each failure doubles the wait (up to 15 minutes)",
            details={"retry_after": self.retry_after},
        )


def claim(
    session: Session, name: str, *, now: datetime, policy: ThrottlePolicy = DEFAULT_POLICY
) -> Refusal | None:
    """Count an attempt for ``name`` now, or say why it must not be made.

    The caller commits either way (the refusal may have set ``locked``) and
    raises ``Refusal.error()`` only after committing.
    """
    row = credentials.login_failure_for_update(session, name, now=now)
    if row.locked or row.failures >= policy.lockout_after:
        row.locked = True
        return Refusal(locked=True, retry_after=0)
    wait = row.last_failure_at + policy.delay(row.failures) - now
    if row.failures and wait > timedelta(0):
        return Refusal(locked=False, retry_after=ceil(wait.total_seconds()))
    row.failures += 1
    row.last_failure_at = now
    session.flush()
    return None


def failed(
    session: Session, name: str, *, now: datetime, policy: ThrottlePolicy = DEFAULT_POLICY
) -> None:
    """The claimed attempt failed: it stays counted; lock the name once at the limit."""
    row = credentials.login_failure_for_update(session, name, now=now)
    if row.failures >= policy.lockout_after:
        row.locked = True
    session.flush()


def succeeded(session: Session, name: str) -> None:
    """The claimed attempt succeeded: forget the name's failures."""
    credentials.clear_login_failures(session, name)


def unlock(session: Session, name: str) -> bool:
    """Admin action: clear a lock (and the count). False if the name had no failures."""
    return credentials.clear_login_failures(session, name)


def state(session: Session, name: str) -> LoginFailure | None:
    """The failure record of ``name``, for an admin's eyes."""
    return credentials.login_failure(session, name)


def prune(
    session: Session, *, now: datetime, policy: ThrottlePolicy = DEFAULT_POLICY
) -> int:
    """Forget unlocked names idle for ``forget_after`` (keeps guessed names from piling up)."""
    return credentials.prune_login_failures(session, before=now - policy.forget_after)

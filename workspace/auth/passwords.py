"""Password hashing: argon2id through passlib's ``CryptContext`` (the ``libpass`` fork).

Why these choices:

- argon2id is memory-hard, so guessing on GPUs costs memory, not just time.
  The default (64 MiB, 3 passes, 1 lane; RFC 9106's second recommendation
  with one lane) is above OWASP's minimum (19 MiB, 2 passes, 1 lane),
  which ``OWASP_MINIMUM`` records and the tests check against.
- Each hash costs its memory while it runs, so a burst of logins could
  exhaust the daemon's memory: a semaphore lets ``max_concurrent`` hashes
  run at once and queues the rest.
- A hash records its own parameters, so raising them later upgrades every
  account at its next successful login (``verify_and_update``).
- Unknown users are checked against a dummy hash made with the same
  parameters, so they take as long and fail the same way as a wrong password.

passlib is used only in this module.
"""

from __future__ import annotations

import re
import secrets
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from passlib.context import CryptContext  # type: ignore[import-untyped]

from workspace.errors import InvalidInput

MIN_LENGTH = 12
"""Shortest password accepted when one is set (NIST SP 800-63B asks 8 at least, 15 alone)."""

MAX_LENGTH = 1024
"""Longest password accepted: long enough for any passphrase, short enough to hash cheaply."""

_PHC = re.compile(
    r"^\$argon2(?P<type>id|i|d)\$v=(?P<v>\d+)\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$"
)


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """The three argon2 cost parameters; memory in KiB, as in the PHC hash string."""

    memory_kib: int
    time_cost: int
    parallelism: int

    def at_least(self, other: Argon2Params) -> bool:
        """True when no parameter is weaker than ``other``'s."""
        return (
            self.memory_kib >= other.memory_kib
            and self.time_cost >= other.time_cost
            and self.parallelism >= other.parallelism
        )


OWASP_MINIMUM = Argon2Params(memory_kib=19 * 1024, time_cost=2, parallelism=1)
DEFAULT_PARAMS = Argon2Params(memory_kib=64 * 1024, time_cost=3, parallelism=1)


def params_of(hashed: str) -> tuple[str, Argon2Params]:
    """The argon2 variant (``id``, ``i``, ``d``) and parameters recorded in a PHC hash."""
    match = _PHC.match(hashed)
    if match is None:
        raise InvalidInput("not an argon2 hash", hint="hashes are made by PasswordHasher")
    return match["type"], Argon2Params(int(match["m"]), int(match["t"]), int(match["p"]))


def check_new_password(password: str) -> None:
    """Refuse passwords too short to resist guessing, or too long to hash cheaply."""
    length = len(_normalize(password))
    if length < MIN_LENGTH:
        raise InvalidInput(
            f"the password is too short ({length} characters)",
            hint=f"use at least {MIN_LENGTH} characters; a few random words work well",
        )
    if length > MAX_LENGTH:
        raise InvalidInput(
            f"the password is too long ({length} characters)",
            hint=f"use at most {MAX_LENGTH} characters",
        )


class PasswordHasher:
    """Hashes and verifies passwords; one per daemon (it owns the concurrency limit).

    Tests pass cheap ``params``; the daemon keeps the default.
    """

    def __init__(self, params: Argon2Params = DEFAULT_PARAMS, *, max_concurrent: int = 2) -> None:
        self.params = params
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=params.memory_kib,
            argon2__rounds=params.time_cost,
            argon2__parallelism=params.parallelism,
        )
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._dummy: str | None = None

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the ``max_concurrent`` hashing slots (every hash runs inside one)."""
        with self._slots:
            yield

    def hash(self, password: str) -> str:
        """A new salted argon2id hash of ``password`` (checked with ``check_new_password``)."""
        check_new_password(password)
        with self.slot():
            return str(self._context.hash(_normalize(password)))

    def verify_and_update(self, hashed: str, password: str) -> tuple[bool, str | None]:
        """(matches, new hash if the stored one was made with other parameters, else None).

        A stored value that is not an argon2 hash matches nothing, rather than
        failing differently from a wrong password.
        """
        if len(password) > MAX_LENGTH:
            return False, None
        with self.slot():
            try:
                ok, new_hash = self._context.verify_and_update(_normalize(password), hashed)
            except ValueError:
                return False, None
        return bool(ok), (str(new_hash) if ok and new_hash else None)

    def dummy_verify(self, password: str) -> None:
        """Spend what a real verification costs, for users without a password hash."""
        self.verify_and_update(self._dummy_hash(), password)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            with self.slot():
                self._dummy = str(self._context.hash(secrets.token_urlsafe(24)))
        return self._dummy


def _normalize(password: str) -> str:
    """NFKC, so the same password typed on another keyboard or OS still matches."""
    return unicodedata.normalize("NFKC", password)

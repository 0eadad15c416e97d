"""Password hashing: argon2id at or above OWASP's floor, upgrades, limits, bounded concurrency."""

from __future__ import annotations

import threading

import pytest

from tests.auth.conftest import CHEAP, PASSWORD
from workspace.auth.passwords import (
    DEFAULT_PARAMS,
    MIN_LENGTH,
    OWASP_MINIMUM,
    Argon2Params,
    PasswordHasher,
    params_of,
)
from workspace.errors import InvalidInput


def test_the_default_hash_is_argon2id_at_or_above_the_owasp_minimum() -> None:
    variant, params = params_of(PasswordHasher().hash(PASSWORD))
    assert variant == "id"
    assert params == DEFAULT_PARAMS
    assert params.at_least(OWASP_MINIMUM)
    assert Argon2Params(memory_kib=19456, time_cost=2, parallelism=1) == OWASP_MINIMUM


def test_a_hash_verifies_its_password_only(hasher: PasswordHasher) -> None:
    hashed = hasher.hash(PASSWORD)
    assert PASSWORD not in hashed
    assert hasher.verify_and_update(hashed, PASSWORD) == (True, None)
    assert hasher.verify_and_update(hashed, PASSWORD + "!") == (False, None)
    assert hasher.hash(PASSWORD) != hashed  # salted


@pytest.mark.parametrize("changed", [
    Argon2Params(CHEAP.memory_kib * 2, CHEAP.time_cost, CHEAP.parallelism),
    Argon2Params(CHEAP.memory_kib, CHEAP.time_cost + 1, CHEAP.parallelism),
    Argon2Params(CHEAP.memory_kib, CHEAP.time_cost, CHEAP.parallelism + 1),
])
def test_a_hash_made_with_other_parameters_is_redone_on_success(
        hasher: PasswordHasher, changed: Argon2Params) -> None:
    old = hasher.hash(PASSWORD)
    upgraded = PasswordHasher(changed)
    ok, new_hash = upgraded.verify_and_update(old, PASSWORD)
    assert ok and new_hash is not None
    assert params_of(new_hash) == ("id", changed)
    assert upgraded.verify_and_update(new_hash, PASSWORD) == (True, None)
    assert upgraded.verify_and_update(old, "wrong password!") == (False, None)


def test_unicode_forms_of_the_same_password_match(hasher: PasswordHasher) -> None:
    composed, decomposed = "caf\u00e9-au-lait-42", "cafe\u0301-au-lait-42"
    assert hasher.verify_and_update(hasher.hash(composed), decomposed)[0]


@pytest.mark.parametrize("password", ["short", "x" * (MIN_LENGTH - 1), "y" * 1025])
def test_weak_or_huge_passwords_are_refused_when_set(hasher: PasswordHasher,
                                                     password: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        hasher.hash(password)
    assert caught.value.hint


def test_a_huge_password_fails_verification_without_hashing(hasher: PasswordHasher) -> None:
    hashed = hasher.hash(PASSWORD)
    assert hasher.verify_and_update(hashed, "z" * 100_000) == (False, None)


def test_a_damaged_stored_hash_matches_nothing(hasher: PasswordHasher) -> None:
    assert hasher.verify_and_update("$argon2id$v=19$garbage", PASSWORD) == (False, None)
    assert hasher.verify_and_update("", PASSWORD) == (False, None)


def test_hashing_waits_for_a_free_slot() -> None:
    """With every slot held, a verification cannot start; it finishes once one is freed."""
    limited = PasswordHasher(CHEAP, max_concurrent=2)
    hashed = limited.hash(PASSWORD)
    results: list[bool] = []
    with limited.slot(), limited.slot():
        worker = threading.Thread(
            target=lambda: results.append(limited.verify_and_update(hashed, PASSWORD)[0]))
        worker.start()
        worker.join(0.3)
        assert worker.is_alive() and results == []
    worker.join()
    assert results == [True]


def test_only_argon2_hashes_are_parsed() -> None:
    with pytest.raises(InvalidInput):
        params_of("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW")

"""Login tokens: forged, stale or revoked JWTs all get the same 401 and nothing else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.auth.conftest import UserMaker
from workspace.auth import tokens
from workspace.auth.tokens import INVALID_TOKEN, JwtKeys
from workspace.db import Database
from workspace.errors import AuthenticationRequired, InvalidInput


def _claims(keys: JwtKeys, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "1", "iss": keys.issuer, "aud": keys.audience, "jti": secrets.token_hex(8),
        "iat": now, "nbf": now, "exp": now + timedelta(minutes=5),
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(claims: dict[str, Any]) -> str:
    payload = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in claims.items()}
    return _b64(json.dumps(payload).encode())


def _hand_made(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A token built byte by byte, as an attacker would, bypassing PyJWT's own checks."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_segment(claims)}"
    signed = signing_input.encode()
    signature = b"" if key is None else hmac.new(key, signed, hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _refused(keys: JwtKeys, token: str) -> None:
    with pytest.raises(AuthenticationRequired) as caught:
        tokens.decode(keys, token)
    assert caught.value.message == INVALID_TOKEN
    assert caught.value.to_payload() == tokens.invalid_token().to_payload()


def test_an_issued_token_decodes_to_its_user(keys: JwtKeys) -> None:
    issued = tokens.issue(keys, user_id=42, ttl=timedelta(minutes=10))
    claims = tokens.decode(keys, issued.token)
    assert (claims.user_id, claims.jti, claims.expires_at) == (42, issued.jti, issued.expires_at)
    header = jwt.get_unverified_header(issued.token)
    assert header["alg"] == "HS256"
    body = jwt.decode(issued.token, options={"verify_signature": False})
    assert set(body) == {"sub", "iss", "aud", "jti", "iat", "nbf", "exp"}


def test_the_forging_helpers_make_valid_tokens_with_the_right_key(keys: JwtKeys) -> None:
    """Control for the tests below: each refusal is caused by the one thing they change."""
    assert tokens.decode(keys, jwt.encode(_claims(keys), keys.secret, algorithm="HS256"))
    assert tokens.decode(keys, _hand_made({"alg": "HS256", "typ": "JWT"}, _claims(keys),
                                          keys.secret))


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1), timedelta(days=2)])
def test_lifetimes_out_of_range_are_refused(keys: JwtKeys, ttl: timedelta) -> None:
    with pytest.raises(InvalidInput):
        tokens.issue(keys, user_id=1, ttl=ttl)


def test_alg_none_is_refused(keys: JwtKeys) -> None:
    _refused(keys, _hand_made({"alg": "none", "typ": "JWT"}, _claims(keys), None))
    _refused(keys, jwt.encode(_claims(keys), "", algorithm="none"))


def test_a_token_signed_with_another_key_is_refused(keys: JwtKeys) -> None:
    _refused(keys, jwt.encode(_claims(keys), secrets.token_bytes(32), algorithm="HS256"))


def test_a_tampered_payload_is_refused(keys: JwtKeys) -> None:
    head, _, signature = tokens.issue(keys, user_id=7).token.split(".")
    _refused(keys, f"{head}.{_segment(_claims(keys, sub='1'))}.{signature}")


@pytest.mark.filterwarnings("ignore::jwt.InsecureKeyLengthWarning")
def test_rs_hs_confusion_is_refused(keys: JwtKeys) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _refused(keys, jwt.encode(_claims(keys), private, algorithm="RS256"))
    # The classic confusion: HMAC "signed" with the public key, claiming RS256 or HS256.
    _refused(keys, _hand_made({"alg": "RS256", "typ": "JWT"}, _claims(keys), public_pem))
    _refused(keys, _hand_made({"alg": "HS256", "typ": "JWT"}, _claims(keys), public_pem))
    # Right key, but an algorithm outside the fixed list.
    _refused(keys, jwt.encode(_claims(keys), keys.secret, algorithm="HS512"))


def test_an_expired_token_is_refused(keys: JwtKeys) -> None:
    issued = tokens.issue(keys, user_id=1, ttl=timedelta(minutes=5),
                          now=datetime.now(UTC) - timedelta(minutes=6))
    _refused(keys, issued.token)


def test_a_token_not_yet_valid_is_refused(keys: JwtKeys) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    _refused(keys, jwt.encode(_claims(keys, nbf=later, iat=later, exp=later + timedelta(hours=1)),
                              keys.secret, algorithm="HS256"))


@pytest.mark.parametrize("claim", tokens.REQUIRED_CLAIMS)
def test_a_token_missing_a_required_claim_is_refused(keys: JwtKeys, claim: str) -> None:
    _refused(keys, jwt.encode(_claims(keys, **{claim: None}), keys.secret, algorithm="HS256"))


@pytest.mark.parametrize("claim,value", [
    ("aud", "someone-else"), ("aud", ["someone-else", "workspace-api"]), ("iss", "evil"),
    ("sub", "alice"), ("sub", "-1"), ("sub", 1), ("jti", ""), ("jti", 5), ("exp", "tomorrow"),
])
def test_a_token_with_a_wrong_claim_is_refused(keys: JwtKeys, claim: str, value: Any) -> None:
    _refused(keys, jwt.encode(_claims(keys, **{claim: value}), keys.secret, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "ws_" + "x" * 60,
                                     "\x00\x01", "e30." * 500])
def test_garbage_is_refused(keys: JwtKeys, garbage: str) -> None:
    _refused(keys, garbage)


def test_a_revoked_token_is_refused_until_pruned(db: Database, keys: JwtKeys,
                                                 make_user: UserMaker) -> None:
    user_id, _ = make_user()
    issued = tokens.issue(keys, user_id=user_id)
    other = tokens.issue(keys, user_id=user_id)
    with db.write() as session:
        assert tokens.verify(session, keys, issued.token).user_id == user_id
        tokens.revoke(session, keys, issued.token)
        tokens.revoke_jti(session, issued.jti, expires_at=issued.expires_at)  # idempotent
    with db.read() as session, pytest.raises(AuthenticationRequired) as caught:
        tokens.verify(session, keys, issued.token)
    assert caught.value.message == INVALID_TOKEN
    with db.read() as session:
        assert tokens.verify(session, keys, other.token).jti == other.jti
    with db.write() as session:
        assert tokens.prune_revoked(session, now=issued.expires_at) == 0
        assert tokens.prune_revoked(session, now=issued.expires_at + timedelta(seconds=1)) >= 1

"""TokenCodec: identity issues HS256 tokens, the gateway verifies them; anything off is Unauthorized."""

from __future__ import annotations

import time
import uuid

import pytest

from servicekit import Unauthorized
from servicekit.tokens import TokenCodec

SECRET = "s" * 32
OTHER_SECRET = "o" * 32


def test_round_trip_keeps_the_claims() -> None:
    codec = TokenCodec(SECRET, ttl_seconds=120)
    subject = uuid.uuid4().hex
    before = int(time.time())
    claims = codec.verify(codec.issue(subject=subject, email="ada@example.com", role="admin"))
    assert claims.subject == subject
    assert claims.email == "ada@example.com"
    assert claims.role == "admin"
    assert before + 120 <= claims.expires_at <= int(time.time()) + 120


def test_tokens_are_unique_per_issue() -> None:
    codec = TokenCodec(SECRET)
    assert codec.issue(subject="u", email="e", role="r") != codec.issue(subject="u", email="e", role="r")


def test_expired_token_is_token_expired() -> None:
    issuer = TokenCodec(SECRET, ttl_seconds=-60)
    token = issuer.issue(subject="u-1", email="a@example.com", role="customer")
    with pytest.raises(Unauthorized) as caught:
        TokenCodec(SECRET).verify(token)
    assert caught.value.code == "TOKEN_EXPIRED"
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "issuer",
    [
        TokenCodec(SECRET, audience="someone-else"),
        TokenCodec(SECRET, issuer="impostor"),
        TokenCodec(OTHER_SECRET),
    ],
    ids=["wrong-audience", "wrong-issuer", "wrong-secret"],
)
def test_foreign_token_is_invalid(issuer: TokenCodec) -> None:
    token = issuer.issue(subject="u-1", email="a@example.com", role="customer")
    with pytest.raises(Unauthorized) as caught:
        TokenCodec(SECRET).verify(token)
    assert caught.value.code == "INVALID_TOKEN"


@pytest.mark.parametrize("token", ["", "not.a.jwt", "abc"])
def test_garbage_token_is_invalid(token: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        TokenCodec(SECRET).verify(token)
    assert caught.value.code == "INVALID_TOKEN"


def test_tampered_token_is_invalid() -> None:
    codec = TokenCodec(SECRET)
    header, _payload, signature = codec.issue(subject="u-1", email="a@example.com", role="customer").split(".")
    forged = codec.issue(subject="u-1", email="a@example.com", role="admin").split(".")[1]
    with pytest.raises(Unauthorized) as caught:
        codec.verify(f"{header}.{forged}.{signature}")
    assert caught.value.code == "INVALID_TOKEN"


@pytest.mark.parametrize("secret", ["", "short", "x" * 31, "é" * 15])
def test_short_secret_is_rejected(secret: str) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        TokenCodec(secret)


def test_secret_length_counts_bytes_not_characters() -> None:
    codec = TokenCodec("é" * 16)
    assert codec.verify(codec.issue(subject="u-1", email="", role="customer")).subject == "u-1"

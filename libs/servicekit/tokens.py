"""Signed access tokens (JWT, HS256): identity issues them, the gateway verifies them."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from servicekit.errors import Unauthorized

ISSUER = "junction-identity"
AUDIENCE = "junction"
SIGNING_KEY_SECRET = "jwt-signing-key"  # noqa: S105 - the secret's name, not its value
"""Name of the signing key in the Dapr secret store both apps read."""


class TokenExpired(Unauthorized):
    """Raised when an access token was valid but has expired."""

    default_code = "TOKEN_EXPIRED"


class InvalidToken(Unauthorized):
    """Raised when an access token is not a valid Junction token (signature, issuer, audience, claims)."""

    default_code = "INVALID_TOKEN"


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str
    role: str
    expires_at: int


class TokenCodec:
    def __init__(self, secret: str, *, ttl_seconds: int = 3600, issuer: str = ISSUER, audience: str = AUDIENCE) -> None:
        if len(secret.encode()) < 32:
            raise ValueError("the JWT signing key must be at least 32 bytes")
        self._secret = secret
        self.ttl_seconds = ttl_seconds
        self.issuer = issuer
        self.audience = audience

    def issue(self, *, subject: str, email: str, role: str) -> str:
        now = int(time.time())
        claims = {
            "sub": subject,
            "email": email,
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Claims:
        """Return the claims of a valid token; raise Unauthorized for anything else."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["sub", "exp", "iss", "aud", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The access token has expired.") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken("The access token is not valid.") from exc
        return Claims(str(claims["sub"]), str(claims.get("email", "")), str(claims["role"]), int(claims["exp"]))

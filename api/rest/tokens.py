"""Bearer tokens: who signed in, in which role, until when — signed so they cannot be forged.

The token is an ``itsdangerous`` signed payload (HMAC-SHA-512 under a key derived
from the ledger's master secret), not a row in a table: any worker of the same
deployment can check it. Expiry is a claim read against the ledger's own clock,
so tests move time with freezegun and the server never trusts the client's. Each
sign-in gets a fresh session id: the Part 11 signing session is tied to it, so
the password is asked again at the first signature after every new sign-in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from ledger.clock import Clock, isoformat, parse_instant


@dataclass(frozen=True)
class Principal:
    """The signed-in person, as the token says and the ledger confirmed."""

    username: str
    role: str
    name: str
    session: str
    password_change_only: bool = False
    """Signed in with an enrolment secret: this token may only change the password (ledger/password_enrolment.py)."""


@dataclass(frozen=True)
class Token:
    """A fresh token and when it stops working."""

    value: str
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged, or expired."""


class TokenService:
    """Issues and reads bearer tokens."""

    def __init__(self, secret: bytes, lifetime: timedelta, clock: Clock) -> None:
        self.serializer = URLSafeSerializer(secret, salt="custody-ledger/api-token/v1")
        self.lifetime = lifetime
        self.clock = clock

    def issue(self, username: str, role: str, *, password_change_only: bool = False) -> Token:
        """A token for someone who just proved their password; with ``password_change_only``, for an
        enrolment secret, a token that opens nothing but the password change (claim ``pwd``)."""
        expires_at = self.clock.now() + self.lifetime
        claims: dict[str, Any] = {
            "sub": username, "role": role, "sid": secrets.token_urlsafe(12), "exp": isoformat(expires_at)
        }  # fmt: skip
        if password_change_only:
            claims["pwd"] = True
        return Token(self.serializer.dumps(claims), expires_at)

    def read(self, value: str) -> dict[str, Any]:
        """The claims of a valid, unexpired token."""
        try:
            claims = self.serializer.loads(value)
        except BadSignature:
            raise InvalidToken("the token is not one this ledger issued") from None
        if not isinstance(claims, dict) or not {"sub", "role", "sid", "exp"} <= claims.keys():
            raise InvalidToken("the token lacks its claims")
        if parse_instant(str(claims["exp"])) <= self.clock.now():
            raise InvalidToken("the token has expired: sign in again")
        return claims

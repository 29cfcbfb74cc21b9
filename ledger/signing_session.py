"""Signing sessions: the password at the first signature, then none while the signer stays active.

21 CFR Part 11 §11.200(a)(1): the first signing of a continuous session uses both
identification components (user id and password); later signings in the same
session may use one. A session ends after ``idle`` without a signature, or when
closed. Unsealed keys live only in this object's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.clock import Clock
from ledger.keys import KeyPair, SealedKey, WrongPassword, unseal_key


class SignatureRefused(Exception):
    """The signer could not be authenticated (no password where one is needed, or a wrong one)."""

    rule = "signature_authentication"

    def __init__(self, message: str, *, password_required: bool = False) -> None:
        super().__init__(message)
        self.password_required = password_required


class WrongSigningPassword(SignatureRefused):
    """The password given does not unseal the signer's key: a failed signature attempt, which the lockout counts."""


@dataclass
class _Session:
    pair: KeyPair
    last_signed: datetime


class SigningSessions:
    """Unsealed keys per user, each forgotten after the idle period."""

    def __init__(self, clock: Clock, idle: timedelta) -> None:
        self.clock = clock
        self.idle = idle
        self._sessions: dict[str, _Session] = {}

    def signer(
        self, user_id: str, key_id: str, sealed: Callable[[], SealedKey | None], password: str | None
    ) -> KeyPair:
        """The key to sign with now, asking for the password when the session needs it."""
        now = self.clock.now()
        session = self._sessions.get(user_id)
        if password is None:
            if session and session.pair.key_id == key_id and now - session.last_signed <= self.idle:
                session.last_signed = now
                return session.pair
            raise SignatureRefused(
                f"signing as {user_id.split('/')[0]} needs the password: first signature of the session, "
                f"or more than {self.idle.total_seconds() / 60:g} minutes since the last one",
                password_required=True,
            )
        sealed_key = sealed()
        if sealed_key is None:
            raise SignatureRefused(f"no signing key of {user_id} is held by this ledger")
        try:
            pair = unseal_key(sealed_key, password)
        except WrongPassword:
            self._sessions.pop(user_id, None)
            raise WrongSigningPassword(f"wrong password for {user_id.split('/')[0]}: nothing was signed") from None
        self._sessions[user_id] = _Session(pair, now)
        return pair

    def open_for(self, user_id: str, key_id: str) -> bool:
        """Would ``user_id`` sign with ``key_id`` now without the password? (What a signature dialog asks.)"""
        session = self._sessions.get(user_id)
        return bool(session and session.pair.key_id == key_id and self.clock.now() - session.last_signed <= self.idle)

    def close(self, user_id: str) -> None:
        """End a user's signing sessions now: the plain one and every ``user/session`` one."""
        for holder in [h for h in self._sessions if h == user_id or h.startswith(user_id + "/")]:
            self._sessions.pop(holder, None)

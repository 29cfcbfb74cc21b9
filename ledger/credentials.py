"""Sign-in passwords for the HTTP API: Argon2id hashes and the lockout after repeated failures.

The password that opens a person's sealed signing key is also the one they sign
in with, so nobody has two secrets to remember. The API checks it against an
Argon2id hash (argon2-cffi's ``PasswordHasher``, which keeps its parameters in
the encoded hash and says when they are out of date) rather than by unsealing
the key on every sign-in. A person registered before the API existed has no hash
yet: the first sign-in proves the password by unsealing their active key, then
stores the hash. Counting failures per username, known or not, keeps the answer
the same for both, so the API does not reveal who is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ledger.clock import isoformat, parse_instant
from ledger.keys import KdfParameters, WrongPassword, unseal_key
from ledger.keystore import KeyStore
from ledger.password_enrolment import must_change_password
from ledger.storage_faults import classify
from ledger.store import EventStore


class SignIn(StrEnum):
    """How a sign-in attempt ended."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    LOCKED = "locked"
    PASSWORD_CHANGE_REQUIRED = "password_change_required"
    """The password is right but is an enrolment secret: it may only be replaced (ledger/password_enrolment.py)."""


@dataclass(frozen=True)
class Attempt:
    """The outcome, and until when the account stays locked when it is."""

    outcome: SignIn
    locked_until: datetime | None = None


@dataclass(frozen=True)
class LockoutPolicy:
    """How many failures in a row lock an account, and for how long."""

    max_failures: int
    lock_for: timedelta


def hasher_for(kdf: KdfParameters) -> PasswordHasher:
    """Argon2id at the ledger's configured cost (the same as for sealing signing keys)."""
    return PasswordHasher(time_cost=kdf.time_cost, memory_cost=kdf.memory_kib, parallelism=kdf.parallelism)


def store_password_hash(
    store: EventStore, username: str, encoded: str, now: datetime, *, must_change: bool = False
) -> None:
    """Keep one person's encoded Argon2id hash, replacing the previous one.

    ``must_change`` marks a first hash as an enrolment secret's; replacing a hash (a re-hash at
    a new cost, say) keeps whatever mark the row has: only a password change removes it.
    """
    with store.side_transaction() as cursor:
        cursor.execute(
            "INSERT INTO api_credentials (username, password_hash, updated_at, must_change_password)"
            " VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
            " updated_at = excluded.updated_at",
            (username, encoded, isoformat(now), int(must_change)),
        )


class Credentials:
    """Password hashes and failure counters, beside the event log on the same database."""

    def __init__(self, store: EventStore, keys: KeyStore, kdf: KdfParameters, policy: LockoutPolicy) -> None:
        self.store = store
        self.keys = keys
        self.hasher = hasher_for(kdf)
        self.policy = policy

    def set_password(self, username: str, password: str, now: datetime) -> None:
        """Store (or replace) the Argon2id hash of a person's password."""
        store_password_hash(self.store, username, self.hasher.hash(password), now)

    def sign_in(self, username: str, password: str, active_key: str | None, now: datetime) -> Attempt:
        """Check a password, counting failures and refusing while the account is locked."""
        locked_until = self._locked_until(username)
        if locked_until is not None and now < locked_until:
            return Attempt(SignIn.LOCKED, locked_until)
        if self._password_matches(username, password, active_key, now):
            self._forget_failures(username)
            if must_change_password(self.store, username):
                return Attempt(SignIn.PASSWORD_CHANGE_REQUIRED)
            return Attempt(SignIn.ACCEPTED)
        return self._failed(username, now)

    def _forget_failures(self, username: str) -> None:
        """Reset the failure count; on a database that takes no writes (full, read-only) the sign-in still
        succeeds, so people can read. A failed sign-in there is refused instead, since it cannot be counted."""
        try:
            with self.store.side_transaction() as cursor:
                cursor.execute("DELETE FROM api_login_failures WHERE username = %s", (username,))
        except Exception as error:
            fault = classify(error)
            if fault is None or not fault.reads_still_work:
                raise

    def _password_matches(self, username: str, password: str, active_key: str | None, now: datetime) -> bool:
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT password_hash FROM api_credentials WHERE username = %s", (username,))
            row = cursor.fetchone()
        if row is None:
            return self._first_sign_in(username, password, active_key, now)
        encoded = str(row["password_hash"])
        try:
            self.hasher.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if self.hasher.check_needs_rehash(encoded):
            self._remember_password(username, password, now)
        return True

    def _first_sign_in(self, username: str, password: str, active_key: str | None, now: datetime) -> bool:
        sealed = self.keys.get(active_key) if active_key else None
        if sealed is None:
            self.hasher.hash(password)  # the same work as a real check: timing says nothing about who exists
            return False
        try:
            unseal_key(sealed, password)
        except WrongPassword:
            return False
        self._remember_password(username, password, now)
        return True

    def _remember_password(self, username: str, password: str, now: datetime) -> None:
        """Store the hash of a password just proven; a database that takes no writes keeps the sign-in
        working (the key was unsealed, so the password is right) and the hash is stored next time."""
        try:
            self.set_password(username, password, now)
        except Exception as error:
            fault = classify(error)
            if fault is None or not fault.reads_still_work:
                raise

    def _locked_until(self, username: str) -> datetime | None:
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT locked_until FROM api_login_failures WHERE username = %s", (username,))
            row = cursor.fetchone()
        if row is None or row["locked_until"] is None:
            return None
        return parse_instant(str(row["locked_until"]))

    def _failed(self, username: str, now: datetime) -> Attempt:
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT failures, locked_until FROM api_login_failures WHERE username = %s", (username,))
            row = cursor.fetchone()
            failures = 1
            if row is not None:
                expired_lock = row["locked_until"] is not None and parse_instant(str(row["locked_until"])) <= now
                failures = 1 if expired_lock else int(row["failures"]) + 1
            locked_until = now + self.policy.lock_for if failures >= self.policy.max_failures else None
            cursor.execute(
                "INSERT INTO api_login_failures (username, failures, locked_until) VALUES (%s, %s, %s)"
                " ON CONFLICT (username) DO UPDATE SET failures = excluded.failures,"
                " locked_until = excluded.locked_until",
                (username, failures, isoformat(locked_until) if locked_until else None),
            )
        if locked_until is not None:
            return Attempt(SignIn.LOCKED, locked_until)
        return Attempt(SignIn.REFUSED)

"""Signing lockout: after too many wrong signing passwords in a row, a person signs nothing until unlocked.

21 CFR Part 11 §11.300(d) asks for safeguards against the unauthorised use of passwords, and for
attempts at it to be detected and reported. A person's signing key is sealed by their password
(ledger/keystore.py), so guessing the password is guessing a signature. Each wrong password given
to unseal the key — `custody record`, an HTTP write, a web form — is counted per person in the
``signing_failures`` table (migration 0014) and appended to the audit log (who, which channel,
when; never the password). At ``CUSTODY_SIGNING_MAX_FAILURES`` failures in a row the person's
signing is locked: every later signature is refused before the key is even tried, right password
or not, until an administrator unlocks it with a reason. A signature made with the right password
resets the count. The sign-in lockout of the HTTP API (ledger/credentials.py, ``api_login_failures``)
is separate: neither triggers the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.errors import RuleViolation
from ledger.audit_log import append_audit
from ledger.clock import Clock, isoformat
from ledger.side_cursor import SideCursor
from ledger.signing_session import SignatureRefused
from ledger.store import EventStore

Channel = Literal["cli", "rest", "web"]

SIGNATURE_FAILED = "signature_failed"
SIGNING_LOCKED = "signing_locked"
REFUSED_WHILE_LOCKED = "signature_refused_locked"
SIGNING_UNLOCKED = "signing_unlocked"
LOCKOUT_ACTIONS = (SIGNATURE_FAILED, SIGNING_LOCKED, REFUSED_WHILE_LOCKED, SIGNING_UNLOCKED)


class SigningLocked(SignatureRefused):
    """The person's signing is locked after repeated wrong passwords: nothing is signed until an administrator
    unlocks it."""

    rule = "signing_locked"


def unlock_hint(username: str) -> str:
    """Who can lift the lock, and how: said in every refusal so the person knows whom to call."""
    return (
        f"an administrator can unlock it: `custody staff unlock-signing {username} --reason ...` "
        f"or POST /staff/{username}/signing-unlock"
    )


@dataclass(frozen=True)
class LockState:
    """A person's consecutive wrong signing passwords, and since when their signing is locked (if it is)."""

    username: str
    failures: int
    locked_at: str | None

    @property
    def locked(self) -> bool:
        """Is every signature of this person refused now?"""
        return self.locked_at is not None


class SigningLockout:
    """The failure counters beside the event log, on the same database (so every process sees one count)."""

    def __init__(self, store: EventStore, clock: Clock, max_failures: int) -> None:
        self.store = store
        self.clock = clock
        self.max_failures = max_failures

    def state(self, username: str) -> LockState:
        """The person's count and lock as stored now (zero and unlocked when nothing was ever counted)."""
        with self.store.side_transaction() as cursor:
            cursor.execute("SELECT failures, locked_at FROM signing_failures WHERE username = %s", (username,))
            row = cursor.fetchone()
        if row is None:
            return LockState(username, 0, None)
        locked_at = None if row["locked_at"] is None else str(row["locked_at"])
        return LockState(username, int(row["failures"]), locked_at)

    def check(self, username: str, channel: Channel) -> LockState:
        """The person's state when they may try to sign; ``SigningLocked`` (the attempt recorded) while locked."""
        state = self.state(username)
        if state.locked:
            with self.store.side_transaction() as cursor:
                append_audit(cursor, self.clock.now(), REFUSED_WHILE_LOCKED, username, username, {"channel": channel})
            raise SigningLocked(
                f"signing as {username} is locked since {state.locked_at} after {state.failures} wrong passwords "
                f"in a row: nothing was signed, even with the right password; {unlock_hint(username)}"
            )
        return state

    def failed(self, username: str, channel: Channel) -> int:
        """Count one wrong password and record it; ``SigningLocked`` when this one reaches the limit.

        The increment is one statement, so two wrong passwords at the same moment (two
        processes) count two; the lock and its audit row are written once, by the
        failure that reaches the limit.
        """
        now = self.clock.now()
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "INSERT INTO signing_failures (username, failures, locked_at) VALUES (%s, 1, NULL)"
                " ON CONFLICT (username) DO UPDATE SET failures = signing_failures.failures + 1"
                " RETURNING failures, locked_at",
                (username,),
            )
            row = cursor.fetchone()
            assert row is not None  # an upsert with RETURNING always gives its row
            failures = int(row["failures"])
            already_locked = row["locked_at"] is not None
            detail = {"channel": channel, "consecutive_failures": failures, "limit": self.max_failures}
            append_audit(cursor, now, SIGNATURE_FAILED, username, username, detail)
            locks_now = not already_locked and failures >= self.max_failures
            if locks_now:
                cursor.execute(
                    "UPDATE signing_failures SET locked_at = %s WHERE username = %s", (isoformat(now), username)
                )
                locked = {"channel": channel, "consecutive_failures": failures}
                append_audit(cursor, now, SIGNING_LOCKED, username, username, locked)
        if locks_now or already_locked:
            raise SigningLocked(
                f"wrong password for {username}: nothing was signed; after {failures} wrong passwords in a row "
                f"signing as {username} is now locked, even with the right password; {unlock_hint(username)}"
            )
        return failures

    def succeeded(self, state: LockState) -> None:
        """The right password was given: the consecutive count starts again from zero (no write when it is zero)."""
        if state.failures == 0:
            return
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "UPDATE signing_failures SET failures = 0 WHERE username = %s AND locked_at IS NULL",
                (state.username,),
            )

    def unlock(self, username: str, *, by: str, reason: str, channel: Channel) -> LockState:
        """Lift a lock and record who did it and why; the state it had. ``RuleViolation`` when it is not locked."""
        with self.store.side_transaction() as cursor:
            before = lift_lock(cursor, self.clock.now(), username, by=by, reason=reason, channel=channel)
        if before is None:
            raise RuleViolation(
                f"signing as {username} is not locked: there is nothing to unlock",
                field="username",
                rule="signing_not_locked",
            )
        return before


def lift_lock(
    cursor: SideCursor, now: datetime, username: str, *, by: str, reason: str, channel: Channel
) -> LockState | None:
    """Lift a lock in the caller's transaction, with its ``signing_unlocked`` audit row; the state it had,
    or None (nothing written) when the person's signing is not locked. A re-enrolment
    (ledger/reenrolment.py) lifts it this way, in the transaction that replaces the key."""
    cursor.execute("SELECT failures, locked_at FROM signing_failures WHERE username = %s", (username,))
    row = cursor.fetchone()
    cursor.execute(
        "UPDATE signing_failures SET failures = 0, locked_at = NULL"
        " WHERE username = %s AND locked_at IS NOT NULL RETURNING username",
        (username,),
    )
    if row is None or cursor.fetchone() is None:
        return None
    before = LockState(username, int(row["failures"]), str(row["locked_at"]))
    detail = {
        "channel": channel,
        "reason": reason,
        "locked_at": before.locked_at,
        "consecutive_failures": before.failures,
    }
    append_audit(cursor, now, SIGNING_UNLOCKED, by, username, detail)
    return before


def reset_failures(cursor: SideCursor, username: str) -> int:
    """Start an unlocked person's count again from zero in the caller's transaction; the count it had.

    Wrong passwords counted against a key that a re-enrolment revokes guess nothing any more.
    """
    cursor.execute("SELECT failures FROM signing_failures WHERE username = %s AND locked_at IS NULL", (username,))
    row = cursor.fetchone()
    if row is None or int(row["failures"]) == 0:
        return 0
    cursor.execute("UPDATE signing_failures SET failures = 0 WHERE username = %s AND locked_at IS NULL", (username,))
    return int(row["failures"])

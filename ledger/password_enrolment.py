"""Enrolment secrets: what an administrator hands a new person, who must replace it by a password of their own.

21 CFR Part 11 §11.300: a password is known to its owner alone. An administrator who
registers someone (``custody staff add``, ``POST /staff``) therefore gives them a
one-time enrolment secret — typed by the administrator or generated and printed once —
that seals the new signing key and opens exactly one door: changing it
(``custody password change``, ``POST /me/password``, the page /ui/password). Until then
the secret signs nothing and the HTTP API issues no ordinary token for it.

The mark is ``api_credentials.must_change_password`` (migration 0013). People registered
in code with a password they chose themselves — the administrator at ``custody init``,
the demonstration's users (api/demo.py), the tests' team — carry no mark: that is the
explicit ``must_change_password=False`` default of ``ledger.setup.register_staff``.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from ledger.clock import isoformat
from ledger.side_cursor import SideCursor
from ledger.signing_session import SignatureRefused
from ledger.store import EventStore

SECRET_BYTES = 15
"""Random bytes of a generated enrolment secret (20 URL-safe characters, 120 bits)."""
CHANGE_COMMAND = "custody password change"
CHANGE_ENDPOINT = "/me/password"
CHANGE_PAGE = "/ui/password"


class PasswordChangeRequired(SignatureRefused):
    """The person still holds an enrolment secret: it signs nothing until they choose their own password."""

    rule = "password_change_required"

    def __init__(self, username: str) -> None:
        super().__init__(
            f"change your password first: {CHANGE_COMMAND} --user {username} "
            f"(the enrolment secret {username} was given signs nothing; also POST {CHANGE_ENDPOINT} or {CHANGE_PAGE})"
        )
        self.username = username


def new_enrolment_secret() -> str:
    """A random one-time secret for a person an administrator registers."""
    return secrets.token_urlsafe(SECRET_BYTES)


def hold_enrolment_secret(cursor: SideCursor, username: str, encoded: str, now: datetime) -> None:
    """Make ``encoded`` (the Argon2id hash of a new enrolment secret) the person's sign-in hash, marked to be
    replaced, in the caller's transaction: what a re-enrolment does (ledger/reenrolment.py)."""
    cursor.execute(
        "INSERT INTO api_credentials (username, password_hash, updated_at, must_change_password)"
        " VALUES (%s, %s, %s, 1)"
        " ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,"
        " updated_at = excluded.updated_at, must_change_password = 1",
        (username, encoded, isoformat(now)),
    )


def must_change_password(store: EventStore, username: str) -> bool:
    """True while ``username``'s password is an enrolment secret nobody has replaced yet."""
    with store.side_transaction() as cursor:
        cursor.execute("SELECT must_change_password FROM api_credentials WHERE username = %s", (username,))
        row = cursor.fetchone()
    return row is not None and bool(row["must_change_password"])

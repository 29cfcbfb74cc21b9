"""Idempotency keys: a retried write gets the first answer back and stores nothing twice.

A client that lost the answer to a write (a dropped Wi-Fi at the bedside) sends
it again with the same ``Idempotency-Key``. Three guarantees hold:

- **One claim.** The key is claimed *before* the write, under the table's primary
  key, so two copies racing each other cannot both reach the ledger: the second
  one sees the claim (``PENDING``) and is told to retry shortly.
- **Answer and step together.** The answer is written *in the same transaction as
  the step's events* (``answer_in_transaction``), and only if the claim is still
  the one this request took. So a stored step always has its answer, and an answer
  always has its step: whatever fails after the commit, a retry gets the stored
  answer, never a second copy of the step.
- **No claim left hanging.** A claim with no answer after ``CLAIM_EXPIRY`` belongs
  to a request that died (a server stopped between claim and commit). Since answer
  and step commit together, no answer means nothing was stored under that key: the
  retry takes the claim over and records the step, once. The dead request, should
  it wake up, finds its claim taken and its transaction refused (``ClaimLost``).

A write that was refused releases its claim, so the corrected request can use the
same key. Keys belong to the person who sent them; the same key reused for a
different request is refused rather than answered with somebody else's result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.clock import isoformat, parse_instant
from ledger.recorders import InTransaction
from ledger.side_cursor import SideCursor
from ledger.store import EventStore

# Longer than any write can take: the table lock waits at most the lock timeout, every
# statement is bounded (ledger/recorders.py), and unsealing a key takes under a second.
CLAIM_EXPIRY = timedelta(seconds=60)


class ClaimState(StrEnum):
    """Where a claimed key stands."""

    NEW = "new"
    ANSWERED = "answered"
    PENDING = "pending"
    OTHER_REQUEST = "other_request"


class ClaimLost(Exception):
    """The claim this request took expired and was taken over by a retry: this copy stores nothing."""

    rule = "idempotency_claim_lost"


@dataclass(frozen=True)
class Claim:
    """The state of a key, with the stored answer when there is one.

    ``token`` identifies the claim this request holds (its creation time), so that
    the answer is written only under the claim that was taken; ``retry_after`` is
    how long a ``PENDING`` claim may still run before a retry can take it over.
    """

    state: ClaimState
    status: int | None = None
    response: Any = None
    created_at: str | None = None
    token: str | None = None
    retry_after: int = 0


class IdempotencyKeys:
    """Claims and stored answers per (username, key)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def claim(self, username: str, key: str, request_hash: str, now: datetime) -> Claim:
        """Take the key for this request, or say why it cannot be taken."""
        token = isoformat(now)
        try:
            with self.store.side_transaction() as cursor:
                cursor.execute(
                    "INSERT INTO api_idempotency (username, idempotency_key, request_hash, created_at)"
                    " VALUES (%s, %s, %s, %s)",
                    (username, key, request_hash, token),
                )
            return Claim(ClaimState.NEW, token=token)
        except IntegrityError:
            pass
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT request_hash, created_at, status, response FROM api_idempotency"
                " WHERE username = %s AND idempotency_key = %s",
                (username, key),
            )
            row = cursor.fetchone()
        if row is None:  # released between our insert and our read: try once more
            return self.claim(username, key, request_hash, now)
        created_at = str(row["created_at"])
        if row["request_hash"] != request_hash:
            return Claim(ClaimState.OTHER_REQUEST, created_at=created_at)
        if row["status"] is not None:
            response = json.loads(str(row["response"]))
            return Claim(ClaimState.ANSWERED, int(row["status"]), response, created_at)
        expires = parse_instant(created_at) + CLAIM_EXPIRY
        if now < expires:
            wait = max(1, int((expires - now).total_seconds()) + 1)
            return Claim(ClaimState.PENDING, created_at=created_at, retry_after=wait)
        return self._take_over(username, key, request_hash, created_at, now)

    def _take_over(self, username: str, key: str, request_hash: str, expired: str, now: datetime) -> Claim:
        """Take an expired claim (nothing was stored under it), unless another retry just did."""
        token = isoformat(now)
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "UPDATE api_idempotency SET created_at = %s WHERE username = %s AND idempotency_key = %s"
                " AND status IS NULL AND created_at = %s RETURNING created_at",
                (token, username, key, expired),
            )
            taken = bool(cursor.fetchall())
        if taken:
            return Claim(ClaimState.NEW, created_at=expired, token=token)
        return self.claim(username, key, request_hash, now)

    def answer_in_transaction(self, claim: Claim, username: str, key: str, status: int, response: Any) -> InTransaction:
        """The write that stores the answer with the step's events, only under the claim taken."""
        assert claim.token is not None, "only a NEW claim is answered"
        token = claim.token
        text = json.dumps(response)

        def write(cursor: SideCursor) -> None:
            cursor.execute(
                "UPDATE api_idempotency SET status = %s, response = %s WHERE username = %s"
                " AND idempotency_key = %s AND created_at = %s AND status IS NULL RETURNING status",
                (status, text, username, key, token),
            )
            if not cursor.fetchall():
                raise ClaimLost(
                    f"the Idempotency-Key claim taken at {token} expired and a retry took it over: "
                    "this copy stored nothing"
                )

        return write

    def release(self, username: str, key: str, claim: Claim) -> None:
        """Give the key back after a refused write: nothing was stored under it."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "DELETE FROM api_idempotency WHERE username = %s AND idempotency_key = %s AND status IS NULL"
                " AND created_at = %s",
                (username, key, claim.token),
            )

"""Idempotency keys: a retried write gets the first answer back and stores nothing twice.

A client that lost the answer to a write (a dropped Wi-Fi at the bedside) sends
it again with the same ``Idempotency-Key``. The key is claimed *before* the
write, under the table's primary key, so two copies racing each other cannot
both reach the ledger: the second one sees the claim. The claim then holds the
answer once the write is done; a write that was refused releases its claim, so
the corrected request can use the same key. A claim left behind by a server
stopped between storing and answering stays "interrupted": the client is told
to look at the product's history, never to record the step again blindly.
Keys belong to the person who sent them; the same key reused for a different
request is refused rather than answered with somebody else's result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from eventsourcing.persistence import IntegrityError

from ledger.clock import isoformat
from ledger.store import EventStore


class ClaimState(StrEnum):
    """Where a claimed key stands."""

    NEW = "new"
    ANSWERED = "answered"
    PENDING = "pending"
    OTHER_REQUEST = "other_request"


@dataclass(frozen=True)
class Claim:
    """The state of a key, with the stored answer when there is one."""

    state: ClaimState
    status: int | None = None
    response: Any = None
    created_at: str | None = None


class IdempotencyKeys:
    """Claims and stored answers per (username, key)."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def claim(self, username: str, key: str, request_hash: str, now: datetime) -> Claim:
        """Take the key for this request, or say why it cannot be taken."""
        try:
            with self.store.side_transaction() as cursor:
                cursor.execute(
                    "INSERT INTO api_idempotency (username, idempotency_key, request_hash, created_at)"
                    " VALUES (%s, %s, %s, %s)",
                    (username, key, request_hash, isoformat(now)),
                )
            return Claim(ClaimState.NEW)
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
        if row["request_hash"] != request_hash:
            return Claim(ClaimState.OTHER_REQUEST, created_at=str(row["created_at"]))
        if row["status"] is None:
            return Claim(ClaimState.PENDING, created_at=str(row["created_at"]))
        return Claim(ClaimState.ANSWERED, int(row["status"]), json.loads(str(row["response"])), str(row["created_at"]))

    def answer(self, username: str, key: str, status: int, response: Any) -> None:
        """Keep the answer of a stored write, to give it again to a retry."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "UPDATE api_idempotency SET status = %s, response = %s WHERE username = %s AND idempotency_key = %s",
                (status, json.dumps(response), username, key),
            )

    def release(self, username: str, key: str) -> None:
        """Give the key back after a refused write: nothing was stored under it."""
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "DELETE FROM api_idempotency WHERE username = %s AND idempotency_key = %s AND status IS NULL",
                (username, key),
            )

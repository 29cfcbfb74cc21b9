"""Sending each webhook its notices: a follower of the log per webhook, whose derivation is an HTTP delivery.

What "exactly once" means here. HTTP cannot promise it by itself: a sender killed
after the receiver accepted a request but before it heard the answer cannot know the
request arrived. So each delivery carries a stable ``webhook-id``,
``<webhook id>:<log position>``, the same on every attempt, and:

1. the attempt is written (``webhook_deliveries``, state ``pending``) and committed
   *before* the request is sent;
2. a 2xx answer settles the row (``delivered``) in the same transaction as the
   webhook's tracking position moves past the event (ledger/follower.py);
3. a sender that restarts finds the row still pending and sends it again, same id.

Every event of the chosen types is therefore delivered, in log order (a webhook is
never told of an event before the earlier ones are settled), and a receiver that
dedupes on ``webhook-id`` (Standard Webhooks asks it to) applies each exactly once.
A failed attempt is retried with exponential backoff from 1 s, capped at 5 min; after
CUSTODY_WEBHOOK_GIVE_UP_MINUTES of failing since the first attempt the delivery is
given up (the last attempt is made at that moment, whatever the backoff), in the
audit log and `custody webhook status`, and the webhook moves on.
Run one sender per database: a second one would not duplicate settlements (the
tracking row refuses it) but could send a request twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from eventsourcing.persistence import Notification

from ledger.audit_log import append_audit
from ledger.clock import Clock, isoformat, parse_instant
from ledger.envelope import Envelope
from ledger.follower import TRACKING_TABLE, AlreadyApplied, Follower
from ledger.ledger_meta import LEDGER_USER
from ledger.side_cursor import SideCursor
from ledger.store import APPLICATION_NAME, EventStore, parse_envelope
from ledger.webhooks import Webhook
from ledger.webhooks_http import Post, post
from ledger.webhooks_signature import headers

BACKOFF_FIRST = timedelta(seconds=1)
BACKOFF_CAP = timedelta(minutes=5)
BATCH = 200
Describe = Callable[[int, Envelope], dict[str, Any]]
Result = Literal["delivered", "retry", "given_up"]


def tracking_table(store: EventStore) -> str:
    """Where followers keep their position on this backend."""
    return TRACKING_TABLE if store.backend == "postgresql" else "tracking"


def tracking_name(webhook_id: str) -> str:
    """The tracking row of one webhook."""
    return f"{APPLICATION_NAME}/webhook/{webhook_id}"


def message_id(webhook_id: str, position: int) -> str:
    """The ``webhook-id`` of the delivery of one event to one webhook: the same on every attempt."""
    return f"{webhook_id}:{position}"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: 1 s, 2 s, 4 s, … up to 5 min."""
    doublings: int = min(max(attempts - 1, 0), 20)
    return min(BACKOFF_FIRST * (1 << doublings), BACKOFF_CAP)


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to (printed by `custody webhook run`; no payload, no identity)."""

    message_id: str
    event_type: str
    result: Result
    attempts: int
    reason: str | None = None
    next_attempt_at: str | None = None

    def line(self) -> str:
        """One line for the sender's output."""
        text = f"{self.message_id} {self.event_type} {self.result} (attempt {self.attempts})"
        if self.reason:
            text += f": {self.reason}"
        return text + (f"; next attempt at {self.next_attempt_at}" if self.next_attempt_at else "")


class WebhookFollower(Follower):
    """One webhook's sender; its tracking position is the last event settled (delivered, skipped or given up)."""

    name = "webhook"

    def __init__(
        self,
        store: EventStore,
        hook: Webhook,
        key: bytes,
        clock: Clock,
        give_up_after: timedelta,
        describe: Describe,
        send: Post = post,
    ) -> None:
        super().__init__(store)
        self.hook, self.key, self.clock, self.give_up_after = hook, key, clock, give_up_after
        self.describe, self.send = describe, send
        self._settling: tuple[Result, str | None, int] | None = None

    @property
    def tracking_name(self) -> str:
        """One tracking row per webhook."""
        return tracking_name(self.hook.id)

    def apply(self, cursor: SideCursor, rows: Sequence[Notification]) -> None:
        """Settle the delivery of the last row (when it was one to deliver) as the position moves past it."""
        if self._settling is None:
            return  # events of other types: only the position moves
        state, reason, attempts = self._settling
        row, now = rows[-1], self.clock.now()
        cursor.execute(
            "UPDATE webhook_deliveries SET state = %s, settled_at = %s, next_attempt_at = NULL, "
            "last_error = COALESCE(%s, last_error) WHERE webhook_id = %s AND position = %s AND state = 'pending'",
            (state, isoformat(now), reason, self.hook.id, row.id),
        )
        if state == "given_up":
            append_audit(cursor, now, "webhook_gave_up", LEDGER_USER, self.hook.id, {
                "webhook_id": message_id(self.hook.id, row.id), "position": row.id, "attempts": attempts,
                "reason": reason, "url": self.hook.url,
            })  # fmt: skip

    def _settle(self, rows: Sequence[Notification], settling: tuple[Result, str | None, int] | None) -> None:
        self._settling = settling
        try:
            self.apply_batch(rows)
        finally:
            self._settling = None

    def deliver_due(self) -> list[Outcome]:
        """Deliver, in log order, every event due now; stop at one waiting for its next attempt."""
        outcomes: list[Outcome] = []
        while True:
            rows = self.store.recorder.select_notifications(self.position() + 1, BATCH)
            if not rows:
                return outcomes
            skipped: list[Notification] = []
            try:
                for row in rows:
                    envelope = parse_envelope(row.state)
                    if envelope.type not in self.hook.events:
                        skipped.append(row)
                        continue
                    if skipped:
                        self._settle(skipped, None)
                        skipped = []
                    outcome = self._deliver(row, envelope)
                    if outcome is None or outcome.result == "retry":
                        outcomes.extend([] if outcome is None else [outcome])
                        return outcomes  # log order: nothing later goes before this one
                    outcomes.append(outcome)
                if skipped:
                    self._settle(skipped, None)
            except AlreadyApplied:
                continue  # another sender moved the position: read it again

    def _deliver(self, row: Notification, envelope: Envelope) -> Outcome | None:
        """One attempt at one event, recorded before it is sent; None when its next attempt is not due yet."""
        now = self.clock.now()
        previous = self._delivery(row.id)
        if previous and previous["next_attempt_at"] and parse_instant(str(previous["next_attempt_at"])) > now:
            return None
        attempts = self._record_attempt(row, envelope, now, previous)
        identifier = message_id(self.hook.id, row.id)
        body = json.dumps(self.describe(row.id, envelope), separators=(",", ":"), sort_keys=True).encode()
        reason = self.send(self.hook.url, body, headers(self.key, identifier, int(now.timestamp()), body))
        if reason is None:
            self._settle([row], ("delivered", None, attempts))
            return Outcome(identifier, envelope.type, "delivered", attempts)
        first = parse_instant(str(previous["first_attempt_at"])) if previous else now
        later = self.clock.now()
        if later - first >= self.give_up_after:
            self._settle([row], ("given_up", reason, attempts))
            return Outcome(identifier, envelope.type, "given_up", attempts, reason)
        retry_at = isoformat(min(later + backoff(attempts), first + self.give_up_after))  # a last try at the end
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "UPDATE webhook_deliveries SET next_attempt_at = %s, last_error = %s "
                "WHERE webhook_id = %s AND position = %s AND state = 'pending'",
                (retry_at, reason, self.hook.id, row.id),
            )
        return Outcome(identifier, envelope.type, "retry", attempts, reason, retry_at)

    def _delivery(self, position: int) -> dict[str, Any] | None:
        with self.store.side_transaction() as cursor:
            cursor.execute(
                "SELECT attempts, first_attempt_at, next_attempt_at FROM webhook_deliveries "
                "WHERE webhook_id = %s AND position = %s AND state = 'pending'",
                (self.hook.id, position),
            )
            return cursor.fetchone()

    def _record_attempt(
        self, row: Notification, envelope: Envelope, now: datetime, previous: dict[str, Any] | None
    ) -> int:
        """Commit the attempt before sending it: a sender killed mid-request finds it pending and sends it again."""
        with self.store.side_transaction() as cursor:
            if previous is None:
                cursor.execute(
                    "INSERT INTO webhook_deliveries (webhook_id, position, message_id, event_type, state, attempts, "
                    "first_attempt_at, last_attempt_at) VALUES (%s, %s, %s, %s, 'pending', 1, %s, %s)",
                    (self.hook.id, row.id, message_id(self.hook.id, row.id), envelope.type, isoformat(now),
                     isoformat(now)),
                )  # fmt: skip
                return 1
            cursor.execute(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = %s, next_attempt_at = NULL "
                "WHERE webhook_id = %s AND position = %s AND state = 'pending'",
                (isoformat(now), self.hook.id, row.id),
            )
            return int(previous["attempts"]) + 1

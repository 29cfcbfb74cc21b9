"""Where each webhook has got to: what `custody webhook status` reports to whoever runs the sender.

A delivery that keeps failing holds its webhook back (log order), so the operator
needs to see it before it is given up: the pending delivery with its attempts, last
error and next attempt, and every delivery already given up, with its reason.
"""

from __future__ import annotations

from typing import Any

from ledger.store import EventStore
from ledger.webhooks import Webhook, list_webhooks
from ledger.webhooks_sender import tracking_name, tracking_table

DELIVERY_COLUMNS = (
    "position, message_id, event_type, state, attempts, first_attempt_at, last_attempt_at, next_attempt_at, "
    "last_error, settled_at"
)


def webhook_status(store: EventStore, hook: Webhook) -> dict[str, Any]:
    """One webhook's position in the log, its delivery in progress, its counts and its given-up deliveries."""
    size = store.size()
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT notification_id FROM {tracking_table(store)} WHERE application_name = %s",
            (tracking_name(hook.id),),
        )
        row = cursor.fetchone()
        position = int(row["notification_id"]) if row else 0
        cursor.execute(
            "SELECT state, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = %s GROUP BY state", (hook.id,)
        )
        counts = {str(r["state"]): int(r["n"]) for r in cursor.fetchall()}
        cursor.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = %s AND state <> 'delivered' "
            "ORDER BY position",
            (hook.id,),
        )
        unsettled = [dict(r) for r in cursor.fetchall()]
    return {
        "id": hook.id,
        "url": hook.url,
        "enabled": hook.enabled,
        "position": position,
        "log_size": size,
        "behind": max(size - position, 0),
        "delivered": counts.get("delivered", 0),
        "pending": [_delivery(r) for r in unsettled if r["state"] == "pending"],
        "given_up": [_delivery(r) for r in unsettled if r["state"] == "given_up"],
    }


def _delivery(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": int(row["position"]),
        "webhook_id": str(row["message_id"]),
        "event_type": str(row["event_type"]),
        "attempts": int(row["attempts"]),
        "first_attempt_at": row["first_attempt_at"],
        "last_attempt_at": row["last_attempt_at"],
        "next_attempt_at": row["next_attempt_at"],
        "reason": row["last_error"],
        "given_up_at": row["settled_at"] if row["state"] == "given_up" else None,
    }


def all_status(store: EventStore) -> list[dict[str, Any]]:
    """The status of every webhook, oldest first."""
    return [webhook_status(store, hook) for hook in list_webhooks(store)]

"""The Standard Webhooks signature of one delivery: what a receiver checks before believing it.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``: the id lets the
receiver dedupe a redelivery, the timestamp lets it refuse a replayed old message,
and the body is the exact bytes sent. The header value is ``v1,`` and the base64
HMAC-SHA256 under the webhook's secret (docs/webhooks.md shows the receiver's side).
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value."""
    content = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode("ascii")


def headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header of one delivery."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body),
        "user-agent": "custody-ledger-webhooks/1",
    }

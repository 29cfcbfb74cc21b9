"""The webhooks a site registered: where each sends, which event types it tells, whether it is on.

Adding or disabling a webhook is an administrator's decision that sends signed notices
outside the site, so it is refused to anyone else and written in the audit log in the
same transaction as the change. What a webhook is told is a notice (identifiers and
times, no payload): the delivery side is ledger/webhooks_sender.py.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from domain.errors import InvalidInput, NotFound, RuleViolation
from domain.events import Role
from domain.log_types import LOGGED_EVENT_TYPES
from ledger.audit_log import append_audit
from ledger.clock import isoformat
from ledger.service import CustodyLedger
from ledger.side_cursor import SideCursor
from ledger.store import EventStore
from ledger.webhooks_secrets import seal_secret

KNOWN_TYPES = LOGGED_EVENT_TYPES  # every type the log holds (domain/log_types.py)
MAX_URL = 2000
MANAGERS = frozenset({Role.ADMIN.value})


@dataclass(frozen=True)
class Webhook:
    """One registered webhook (its secret stays sealed in the database)."""

    id: str
    url: str
    events: frozenset[str]
    created_at: str
    created_by: str
    disabled_at: str | None
    disabled_by: str | None

    @property
    def enabled(self) -> bool:
        """Whether the sender still delivers to it."""
        return self.disabled_at is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape `custody webhook list` prints."""
        return {
            "id": self.id,
            "url": self.url,
            "events": sorted(self.events),
            "enabled": self.enabled,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "disabled_at": self.disabled_at,
            "disabled_by": self.disabled_by,
        }


def checked_url(url: str, field: str = "url") -> str:
    """An http(s) URL with a host and no credentials (those would sit in clear in the database)."""
    text = url.strip()
    if len(text) > MAX_URL:
        raise InvalidInput(f"{field} is longer than {MAX_URL} characters", field=field, rule="url_too_long")
    parsed = urlparse(text)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise InvalidInput(
            f"{field} {text[:200]!r} is not an http:// or https:// URL with a host", field=field, rule="invalid_url"
        )
    if parsed.username or parsed.password:
        raise InvalidInput(
            f"{field} carries credentials (user:password@): the secret file is what authenticates deliveries",
            field=field,
            rule="credentials_in_url",
        )
    return text


def checked_events(events: Iterable[str], field: str = "--events") -> frozenset[str]:
    """The event types asked for, each one the ledger records."""
    asked = frozenset(name.strip() for name in events if name.strip())
    if not asked:
        raise InvalidInput(f"{field} names no event type", field=field, rule="events_required")
    unknown = sorted(asked - KNOWN_TYPES)
    if unknown:
        raise InvalidInput(
            f"{field} names event types the ledger does not record: {', '.join(unknown)[:300]} "
            "(see `custody event-types`)",
            field=field,
            rule="unknown_event_type",
        )
    return asked


def _manager(ledger: CustodyLedger, by: str, field: str) -> str:
    _, member = ledger.actor(by)
    if member.role not in MANAGERS:
        raise RuleViolation(
            f"{by} is a {member.role}: only an administrator manages webhooks", field=field, rule="role_not_allowed"
        )
    return member.username


def add_webhook(
    ledger: CustodyLedger, url: str, events: Iterable[str], key: bytes, *, by: str, by_field: str = "--user"
) -> Webhook:
    """Register a webhook, its secret sealed, and audit it; it is told of events recorded from now on."""
    checked = checked_url(url)
    types = checked_events(events)
    username = _manager(ledger, by, by_field)
    webhook_id = "wh_" + secrets.token_hex(8)
    sealed = seal_secret(ledger.settings.home, webhook_id, key)
    now = isoformat(ledger.clock.now())
    start = ledger.store.size()
    with ledger.store.side_transaction() as cursor:
        cursor.execute(
            "INSERT INTO webhooks (id, url, event_types, sealed_secret, created_at, created_by) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (webhook_id, checked, json.dumps(sorted(types)), sealed, now, username),
        )
        _start_tracking(cursor, ledger.store, webhook_id, start)
        append_audit(cursor, ledger.clock.now(), "webhook_added", username, webhook_id,
                     {"url": checked, "events": sorted(types), "from_position": start})  # fmt: skip
    return Webhook(webhook_id, checked, types, now, username, None, None)


def _start_tracking(cursor: SideCursor, store: EventStore, webhook_id: str, position: int) -> None:
    """A new webhook starts after the events already stored: it is told of what happens from now on."""
    from ledger.webhooks_sender import tracking_name, tracking_table

    if position > 0:
        cursor.execute(
            f"INSERT INTO {tracking_table(store)} (application_name, notification_id) VALUES (%s, %s)",
            (tracking_name(webhook_id), position),
        )


def _row(row: dict[str, Any]) -> Webhook:
    return Webhook(
        str(row["id"]),
        str(row["url"]),
        frozenset(json.loads(str(row["event_types"]))),
        str(row["created_at"]),
        str(row["created_by"]),
        None if row["disabled_at"] is None else str(row["disabled_at"]),
        None if row["disabled_by"] is None else str(row["disabled_by"]),
    )


COLUMNS = "id, url, event_types, created_at, created_by, disabled_at, disabled_by"


def list_webhooks(store: EventStore) -> list[Webhook]:
    """Every webhook, enabled or not, oldest first."""
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM webhooks ORDER BY created_at, id")
        return [_row(row) for row in cursor.fetchall()]


def get_webhook(store: EventStore, webhook_id: str, field: str = "id") -> Webhook:
    """One webhook by id, or ``NotFound`` naming the field."""
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM webhooks WHERE id = %s", (webhook_id,))
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"no webhook has the id {webhook_id[:80]!r} (see `custody webhook list`)", field=field)
    return _row(row)


def sealed_secret(store: EventStore, webhook_id: str) -> bytes:
    """The stored (sealed) secret of one webhook."""
    with store.side_transaction() as cursor:
        cursor.execute("SELECT sealed_secret FROM webhooks WHERE id = %s", (webhook_id,))
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"no webhook has the id {webhook_id[:80]!r}", field="id")
    return bytes(row["sealed_secret"])


def disable_webhook(ledger: CustodyLedger, webhook_id: str, *, by: str, by_field: str = "--user") -> Webhook:
    """Stop delivering to a webhook (kept, with its deliveries, for the record) and audit it."""
    username = _manager(ledger, by, by_field)
    hook = get_webhook(ledger.store, webhook_id)
    if not hook.enabled:
        raise RuleViolation(
            f"webhook {webhook_id} was already disabled at {hook.disabled_at} by {hook.disabled_by}",
            field="id",
            rule="already_disabled",
        )
    now = ledger.clock.now()
    with ledger.store.side_transaction() as cursor:
        cursor.execute(
            "UPDATE webhooks SET disabled_at = %s, disabled_by = %s WHERE id = %s AND disabled_at IS NULL",
            (isoformat(now), username, webhook_id),
        )
        append_audit(cursor, now, "webhook_disabled", username, webhook_id, {"url": hook.url})
    return get_webhook(ledger.store, webhook_id)

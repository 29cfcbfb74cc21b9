"""One stored event as the projections read it: its log position, aggregate kind and domain record.

Projections never verify signatures (``custody verify`` does); they decode the
stored envelope once and hand the same ``EventRecord`` the domain replays, so a
read model folds exactly the facts the aggregates fold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from domain.events import EventRecord
from ledger.clock import isoformat, parse_instant
from ledger.store import parse_envelope


@dataclass(frozen=True)
class LoggedEvent:
    """An event at its place in the global log."""

    position: int
    kind: str
    record: EventRecord

    @property
    def aggregate_id(self) -> UUID:
        """The product, shipment, batch or staff member the event belongs to."""
        return self.record.aggregate_id

    @property
    def type(self) -> str:
        """The event type name."""
        return self.record.type


def decode(row: Notification) -> LoggedEvent:
    """Decode one notification of the log."""
    envelope = parse_envelope(row.state)
    return LoggedEvent(position=row.id, kind=str(envelope.body["aggregate_kind"]), record=envelope.to_record())


def decode_all(rows: Iterable[Notification]) -> list[LoggedEvent]:
    """Decode a batch of notifications, in log order."""
    return [decode(row) for row in rows]


def records_of(stored: Sequence[StoredEvent]) -> list[EventRecord]:
    """One aggregate's stored rows as domain records."""
    return [parse_envelope(event.state).to_record() for event in stored]


def instant(moment: datetime | None) -> str | None:
    """The one text form of an instant in projection tables (canonical UTC, fixed width, sortable)."""
    return None if moment is None else isoformat(moment)


def payload_instant(text: Any) -> str | None:
    """A time written in a payload (any ISO 8601 with offset), in the projection's text form."""
    if not isinstance(text, str):
        return None
    try:
        return isoformat(parse_instant(text))
    except ValueError:
        return None


def payload_json(payload: Any) -> str:
    """A payload as deterministic JSON text, so a rebuild writes byte-identical rows."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

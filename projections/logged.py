"""One stored event as the projections read it: its log position, aggregate kind and domain record.

Projections never verify signatures (``custody verify`` does); they decode the
stored envelope once and hand the same ``EventRecord`` the domain replays, so a
read model folds exactly the facts the aggregates fold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from domain.events import EventRecord
from ledger.clock import isoformat, parse_instant
from ledger.store import parse_envelope
from projections.redact import describe
from projections.storable import displayable, showable


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


class UndecodableEvent(ValueError):
    """A stored event the read models cannot turn into a record (bytes, JSON or envelope fields).

    The verifier judges such a row (``custody verify``); a read model only has to
    go on without it. The message names the aggregate and version and the
    underlying error, whichever path met the row (the batch being projected, or
    an aggregate's history read while projecting a later event), so a rebuild in
    memory and the live follower record the same fault.
    """

    def __init__(self, aggregate_id: UUID, version: int, cause: Exception) -> None:
        super().__init__(
            f"version {version} of aggregate {aggregate_id} cannot be decoded: {type(cause).__name__}: "
            f"{describe(cause)}"
        )
        self.aggregate_id = aggregate_id
        self.version = version
        self.cause = cause


@dataclass(frozen=True)
class Undecodable:
    """A row of the log that did not decode, known by its stored columns only (position, aggregate, topic)."""

    position: int
    aggregate_id: UUID
    version: int
    type: str
    error: UndecodableEvent


def _uuid(value: UUID | str) -> UUID:
    """The recorder's originator id (a UUID, or its text on some paths) as a UUID."""
    return value if isinstance(value, UUID) else UUID(value)


def decode(row: Notification) -> LoggedEvent:
    """Decode one notification of the log; ``UndecodableEvent`` when its bytes are not a usable envelope."""
    try:
        envelope = parse_envelope(row.state)
        return LoggedEvent(position=row.id, kind=str(envelope.body["aggregate_kind"]), record=envelope.to_record())
    except Exception as error:
        raise UndecodableEvent(_uuid(row.originator_id), row.originator_version, error) from error


def decode_batch(rows: Iterable[Notification]) -> tuple[list[LoggedEvent], list[Undecodable]]:
    """Decode a batch in log order, setting aside the rows that do not decode (they become projection faults)."""
    events: list[LoggedEvent] = []
    undecodable: list[Undecodable] = []
    for row in rows:
        try:
            events.append(decode(row))
        except UndecodableEvent as error:
            undecodable.append(Undecodable(row.id, error.aggregate_id, error.version, row.topic, error))
    return events, undecodable


def records_of(stored: Sequence[StoredEvent]) -> list[EventRecord]:
    """One aggregate's stored rows as domain records; ``UndecodableEvent`` names the first that does not decode."""
    records = []
    for event in stored:
        try:
            records.append(parse_envelope(event.state).to_record())
        except Exception as error:
            raise UndecodableEvent(_uuid(event.originator_id), event.originator_version, error) from error
    return records


def instant(moment: datetime | None) -> str | None:
    """The one text form of an instant in projection tables (canonical UTC, fixed width, sortable)."""
    return None if moment is None else _instant_text(moment)


@lru_cache(maxsize=4096)
def _instant_text(moment: datetime) -> str:
    """``isoformat``, remembered: every read model writes the same event's instants, several times each.

    Equal instants in other zones are equal keys, and ``isoformat`` gives them the same UTC text.
    """
    return isoformat(moment)


def payload_instant(text: Any) -> str | None:
    """A time written in a payload (any ISO 8601 with offset), in the projection's text form."""
    if not isinstance(text, str):
        return None
    try:
        return isoformat(parse_instant(text))
    except ValueError:
        return None


def payload_json(payload: Any) -> str:
    """A payload as deterministic JSON text, so a rebuild writes byte-identical rows.

    Its strings are made displayable first (NUL and lone surrogates shown as
    U+FFFD, as in every other column): JSON would carry a NUL as an escape that
    readers decode back, and a lone surrogate not at all.
    """
    try:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError):
        text = None
    if text is not None and "\\u0000" not in text and showable(text):
        return text  # no string held a NUL (JSON escapes it) or a lone surrogate: nothing to replace
    return json.dumps(_displayable(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _displayable(value: Any) -> Any:
    if isinstance(value, str):
        return displayable(value)
    if isinstance(value, Mapping):
        return {displayable(str(key)): _displayable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_displayable(item) for item in value]
    return value

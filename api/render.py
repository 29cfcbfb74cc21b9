"""Turning ledger objects into JSON-safe data and short human lines, for the CLI (and later HTTP)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from domain.aggregate import Aggregate
from ledger.envelope import Envelope


def jsonable(value: Any) -> Any:
    """Recursively convert datetimes, UUIDs, enums, dataclasses, tuples and sets to JSON types."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: jsonable(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return value


def aggregate_summary(aggregate: Aggregate) -> dict[str, Any]:
    """The replayed state of an aggregate, as JSON-safe data."""
    state = {key: value for key, value in vars(aggregate).items() if not key.startswith("_")}
    state["kind"] = aggregate.kind
    return {key: jsonable(value) for key, value in state.items()}


def event_line(envelope: Envelope) -> str:
    """One event as a line a pharmacist can read: version, when, what, who, meaning."""
    body = envelope.body
    actor = body["actor"]
    return (
        f"v{body['version']:<3} {body['occurred_at'][:19]}Z  {body['type']:<30} "
        f"{actor['name']} ({actor['role']}), {body['meaning']}  #{envelope.hash[:12]}"
    )

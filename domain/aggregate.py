"""The base every aggregate shares: replay facts in order, expose version and last step time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar, Self
from uuid import UUID

from domain.events import EventRecord


class Aggregate:
    """State rebuilt from recorded facts; subclasses define ``when_<EventType>`` methods.

    ``apply`` never validates: a fact that was accepted once is replayed as is,
    so an old history still loads after the rules change.
    """

    kind: ClassVar[str] = "aggregate"

    def __init__(self, aggregate_id: UUID) -> None:
        self.id = aggregate_id
        self.version = 0
        self.last_occurred_at: datetime | None = None

    @classmethod
    def replay(cls, aggregate_id: UUID, records: Iterable[EventRecord]) -> Self:
        """Rebuild an aggregate from its history, oldest first."""
        aggregate = cls(aggregate_id)
        for record in records:
            aggregate.apply(record)
        return aggregate

    def apply(self, record: EventRecord) -> None:
        """Fold one recorded fact into the state."""
        handler = getattr(self, f"when_{record.type}", None)
        if handler is not None:
            handler(record)
        self.version = record.version
        if self.last_occurred_at is None or record.occurred_at > self.last_occurred_at:
            self.last_occurred_at = record.occurred_at


Loader = Callable[[UUID], Aggregate | None]
"""Given an aggregate id, the ledger returns the replayed aggregate, or None if it has no history."""

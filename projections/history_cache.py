"""Aggregate histories kept in memory while one runner reads the log from front to back.

Product status and inventory replay a product's whole history whenever the
product has a new event. Read from the event store, that is one query and a
decode of every earlier event per product per batch, the dominant cost of a
rebuild. A runner that reads the log in order has already decoded those events:
it hands each batch here before projecting it, and a history is served from
memory when it is known from version 1 on. Otherwise (a runner that resumed
half-way, an aggregate evicted to bound memory) it is read from the store as
before and kept from then on. An aggregate with an event that did not decode is
always read from the store, so the error its history raises is the one the live
follower records.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from uuid import UUID

from domain.events import EventRecord
from ledger.store import EventStore
from projections.logged import LoggedEvent, Undecodable, records_of

LIMIT = 50_000
"""Records kept at most; the aggregates touched longest ago are dropped first (and read again if needed)."""


class HistoryCache:
    """Each aggregate's records from version 1 on, in version order, for the aggregates seen most recently."""

    def __init__(self, store: EventStore, limit: int | None = None) -> None:
        self.store = store
        self.limit = LIMIT if limit is None else limit
        self._records: OrderedDict[UUID, list[EventRecord]] = OrderedDict()
        self._count = 0
        self._undecodable: set[UUID] = set()
        self.store_reads = 0

    def remember(self, events: Sequence[LoggedEvent], undecodable: Sequence[Undecodable] = ()) -> None:
        """Add a batch read from the log, in log order (before it is projected)."""
        for row in undecodable:
            self._undecodable.add(row.aggregate_id)
            self._drop(row.aggregate_id)
        for event in events:
            aggregate, record = event.aggregate_id, event.record
            known = self._records.get(aggregate)
            if known is None:
                if record.version == 1 and aggregate not in self._undecodable:
                    self._keep(aggregate, [record])
            elif record.version == known[-1].version + 1:
                known.append(record)
                self._count += 1
                self._records.move_to_end(aggregate)
            elif record.version > known[-1].version:
                self._drop(aggregate)  # a gap: the store has what is missing
        self._bound()

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """The records from version 1 to ``through_version`` (from memory when complete, else from the store)."""
        known = self._records.get(aggregate_id)
        if known is not None and known[-1].version >= through_version:
            self._records.move_to_end(aggregate_id)
            return known[:through_version]
        self.store_reads += 1
        records = records_of(self.store.recorder.select_events(aggregate_id, lte=through_version))
        if aggregate_id not in self._undecodable and records and records[0].version == 1:
            self._drop(aggregate_id)
            self._keep(aggregate_id, list(records))
            self._bound()
        return records

    def _keep(self, aggregate: UUID, records: list[EventRecord]) -> None:
        self._records[aggregate] = records
        self._count += len(records)

    def _drop(self, aggregate: UUID) -> None:
        dropped = self._records.pop(aggregate, None)
        if dropped is not None:
            self._count -= len(dropped)

    def _bound(self) -> None:
        while self._count > self.limit and self._records:
            _, dropped = self._records.popitem(last=False)
            self._count -= len(dropped)

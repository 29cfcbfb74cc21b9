"""The event recorders, extended so that a side-table write commits or fails with the events.

``eventsourcing`` calls a recorder's ``_insert_events`` inside the transaction
that stores the events (before the table lock on PostgreSQL, after the rows on
SQLite). Our recorders run there the writes the caller hands over with the events
(``in_transaction``): an idempotency key's answer is the first, so that a step and
the answer a retry will get are stored together, or neither is.

On PostgreSQL the transaction also gets a ``statement_timeout``: every statement of
a write, the table lock included, ends within the store's lock timeout plus a
margin, so no single request can hold the write lock of the whole ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow

from ledger.side_cursor import SideCursor

InTransaction = Callable[[SideCursor], None]
STATEMENT_TIMEOUT_MARGIN_SECONDS = 10


def _run(cursor: SideCursor, writes: Sequence[InTransaction]) -> None:
    for write in writes:
        write(cursor)


class CustodySQLiteRecorder(SQLiteApplicationRecorder):
    """SQLite: the events, then the side writes, in one transaction."""

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Store the rows, then run the writes handed over with them."""
        ids = super()._insert_events(c, stored_events, **kwargs)
        _run(SideCursor(c, "sqlite"), kwargs.get("in_transaction", ()))
        return ids


class CustodyPostgresRecorder(PostgresApplicationRecorder):
    """PostgreSQL: a bounded transaction, the side writes first, then the locked insert."""

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Bound every statement, then run the writes handed over with the events."""
        timeout_ms = int((self.datastore.lock_timeout + STATEMENT_TIMEOUT_MARGIN_SECONDS) * 1000)
        # One statement, one round trip: a durable append on PostgreSQL costs a few of them, each counted.
        curs.execute(
            "SELECT set_config('statement_timeout', %s, true), set_config('search_path', %s, true)",
            (f"{timeout_ms}ms", self.datastore.schema or "public"),
        )
        super()._insert_events(curs, stored_events, **kwargs)
        _run(SideCursor(curs, "postgresql"), kwargs.get("in_transaction", ()))


def recorder_topic(backend: str) -> str:
    """The APPLICATION_RECORDER_TOPIC naming our recorder for a backend."""
    cls = CustodyPostgresRecorder if backend == "postgresql" else CustodySQLiteRecorder
    return f"{cls.__module__}:{cls.__qualname__}"

"""Where a projection writes: live SQL tables inside the follower's transaction, or memory for a check.

A read model is written once, against this small interface (get, put, delete by
primary key, and one aggregate's history up to a version), so the same code
fills the live tables incrementally and computes a scratch copy from the log in
memory that ``custody projections check`` compares with them. Rows are plain
dicts; flags are integers 0/1 on both backends so rows compare equal as read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.events import EventRecord
from ledger.store import EventStore, SideCursor
from projections.logged import LoggedEvent, records_of

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """A projection table as migrations/0004 creates it: name, primary key and every column."""

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]

    def key_of(self, row: Row) -> Key:
        """The primary key of a row."""
        return tuple(row[column] for column in self.key)

    def upsert_sql(self) -> str:
        """Insert, or replace every non-key column of the row with that key (both backends)."""
        names = ", ".join(self.columns)
        marks = ", ".join("%s" for _ in self.columns)
        updates = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c not in self.key)
        conflict = "DO NOTHING" if not updates else f"DO UPDATE SET {updates}"
        return f"INSERT INTO {self.name} ({names}) VALUES ({marks}) ON CONFLICT ({', '.join(self.key)}) {conflict}"

    def where_key(self) -> str:
        """The WHERE clause selecting one row by its key."""
        return " AND ".join(f"{column} = %s" for column in self.key)


class View(Protocol):
    """What a projection may do while applying a batch."""

    def get(self, table: Table, key: Key) -> Row | None:
        """One row by primary key, or None (sees this batch's own writes)."""
        ...

    def put(self, table: Table, row: Row) -> None:
        """Insert or replace the row with the same key."""
        ...

    def delete(self, table: Table, key: Key) -> None:
        """Remove the row with that key, if any."""
        ...

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """One aggregate's records from version 1 to ``through_version``."""
        ...


class SqlView:
    """The live tables, written in the follower's transaction; histories read from the event store.

    Events up to a version already in the log are committed and immutable, so
    reading them through the recorder (another connection) is consistent with
    the batch being applied.
    """

    def __init__(self, cursor: SideCursor, store: EventStore) -> None:
        self.cursor = cursor
        self.store = store

    def get(self, table: Table, key: Key) -> Row | None:
        """One row by primary key."""
        self.cursor.execute(f"SELECT * FROM {table.name} WHERE {table.where_key()}", key)
        return self.cursor.fetchone()

    def put(self, table: Table, row: Row) -> None:
        """Upsert the row."""
        self.cursor.execute(table.upsert_sql(), [row[column] for column in table.columns])

    def delete(self, table: Table, key: Key) -> None:
        """Delete by key."""
        self.cursor.execute(f"DELETE FROM {table.name} WHERE {table.where_key()}", key)

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """Read the aggregate's stored events up to the version."""
        return records_of(self.store.recorder.select_events(aggregate_id, lte=through_version))


class MemoryView:
    """Tables as dicts, fed from the log by the caller: the scratch space of a check and of unit tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = defaultdict(dict)
        self.histories: dict[UUID, list[EventRecord]] = defaultdict(list)

    def remember(self, events: Sequence[LoggedEvent]) -> None:
        """Make a batch's events available to ``history`` before it is projected."""
        for event in events:
            self.histories[event.aggregate_id].append(event.record)

    def get(self, table: Table, key: Key) -> Row | None:
        """One row by primary key (a copy)."""
        row = self.tables[table.name].get(key)
        return None if row is None else dict(row)

    def put(self, table: Table, row: Row) -> None:
        """Insert or replace, keeping only the table's columns."""
        self.tables[table.name][table.key_of(row)] = {column: row[column] for column in table.columns}

    def delete(self, table: Table, key: Key) -> None:
        """Delete by key."""
        self.tables[table.name].pop(key, None)

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """The remembered records up to the version."""
        return [record for record in self.histories[aggregate_id] if record.version <= through_version]

    def rows(self, table: Table) -> dict[Key, Row]:
        """Every row of a table by key."""
        return self.tables[table.name]

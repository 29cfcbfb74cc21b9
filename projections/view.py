"""Where a projection writes: live SQL tables inside the follower's transaction, or memory for a check.

A read model is written once, against this small interface (get, put, delete by
primary key, and one aggregate's history up to a version), so the same code
fills the live tables incrementally and computes a scratch copy from the log in
memory that ``custody projections check`` compares with them. Rows are plain
dicts; flags are integers 0/1 on both backends so rows compare equal as read.

Both views make every row and key storable first (``projections.storable``): this
is the one place rows are written, so no read model can hand a database a value
it refuses. ``attempt`` undoes the writes of a block that fails, so the projector
can set one event aside as a fault and keep the rest of the batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from domain.events import EventRecord
from ledger.store import EventStore, SideCursor
from projections.logged import LoggedEvent, Undecodable, UndecodableEvent, records_of
from projections.storable import storable_key, storable_row

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

    def storable(self, row: Row) -> Row:
        """The row as both backends store it (text made displayable, wrong kinds refused)."""
        return storable_row(self.name, self.columns, row)

    def storable_key(self, key: Key) -> Key:
        """A key as the stored rows hold it."""
        return storable_key(self.name, self.key, key)

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

    def attempt(self) -> AbstractContextManager[None]:
        """A block whose writes are all undone if it raises (the exception goes on)."""
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
        self.cursor.execute(f"SELECT * FROM {table.name} WHERE {table.where_key()}", table.storable_key(key))
        return self.cursor.fetchone()

    def put(self, table: Table, row: Row) -> None:
        """Upsert the row."""
        stored = table.storable(row)
        self.cursor.execute(table.upsert_sql(), [stored[column] for column in table.columns])

    def delete(self, table: Table, key: Key) -> None:
        """Delete by key."""
        self.cursor.execute(f"DELETE FROM {table.name} WHERE {table.where_key()}", table.storable_key(key))

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """Read the aggregate's stored events up to the version."""
        return records_of(self.store.recorder.select_events(aggregate_id, lte=through_version))

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """A savepoint: a failed block is rolled back to it, and the transaction stays usable."""
        self.cursor.execute("SAVEPOINT projection_attempt")
        try:
            yield
        except BaseException:
            self.cursor.execute("ROLLBACK TO SAVEPOINT projection_attempt")
            self.cursor.execute("RELEASE SAVEPOINT projection_attempt")
            raise
        self.cursor.execute("RELEASE SAVEPOINT projection_attempt")


class MemoryView:
    """Tables as dicts, fed from the log by the caller: the scratch space of a check and of unit tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = defaultdict(dict)
        self.histories: dict[UUID, list[EventRecord]] = defaultdict(list)
        self.undecodable: dict[UUID, list[Undecodable]] = defaultdict(list)
        self._undo: list[tuple[str, Key, Row | None]] | None = None

    def remember(self, events: Sequence[LoggedEvent], undecodable: Sequence[Undecodable] = ()) -> None:
        """Make a batch's events available to ``history`` before it is projected (and the rows that did not
        decode, so that a history reaching one fails as reading it from the store fails)."""
        for event in events:
            self.histories[event.aggregate_id].append(event.record)
        for row in undecodable:
            self.undecodable[row.aggregate_id].append(row)

    def get(self, table: Table, key: Key) -> Row | None:
        """One row by primary key (a copy)."""
        row = self.tables[table.name].get(table.storable_key(key))
        return None if row is None else dict(row)

    def put(self, table: Table, row: Row) -> None:
        """Insert or replace, keeping only the table's columns."""
        stored = table.storable(row)
        self._write(table.name, table.key_of(stored), stored)

    def delete(self, table: Table, key: Key) -> None:
        """Delete by key."""
        self._write(table.name, table.storable_key(key), None)

    def _write(self, name: str, key: Key, row: Row | None) -> None:
        rows = self.tables[name]
        if self._undo is not None:
            self._undo.append((name, key, rows.get(key)))
        if row is None:
            rows.pop(key, None)
        else:
            rows[key] = row

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """The remembered records up to the version; ``UndecodableEvent`` if one of them did not decode."""
        for row in self.undecodable.get(aggregate_id, ()):
            if row.version <= through_version:
                raise UndecodableEvent(row.aggregate_id, row.version, row.error.cause)
        return [record for record in self.histories[aggregate_id] if record.version <= through_version]

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Remember what each write replaces, and put it back if the block fails."""
        outer, self._undo = self._undo, []
        try:
            yield
        except BaseException:
            for name, key, previous in reversed(self._undo):
                if previous is None:
                    self.tables[name].pop(key, None)
                else:
                    self.tables[name][key] = previous
            raise
        finally:
            undone, self._undo = self._undo, outer
            if outer is not None:
                outer.extend(undone)

    def rows(self, table: Table) -> dict[Key, Row]:
        """Every row of a table by key."""
        return self.tables[table.name]

"""The live tables written a batch at a time: rows kept in memory while a batch is projected, then written at once.

``SqlView`` sends one statement per ``get``, ``put`` and ``delete``, which bounds
a rebuild at a few thousand events a second whatever the read model does. Here a
batch's writes go to an overlay (the last state of each row it touched); ``flush``
then writes each table's rows at once (``projections.bulk_write``), inside the
caller's transaction, so the rows and the tracking position still commit together. ``attempt`` undoes a failed block in
memory, as ``MemoryView`` does, so no savepoint is needed per event.

Reads of the tables a read model looks its own rows up in (``lookups``) are kept
in a ``RowCache`` between batches: the runner that owns it holds the tracking
row of each batch it writes, so nobody else changed those rows in between
(a runner that finds the tracking row moved drops the cache). When the cache
saw the tables empty and has kept every row written since, a key it does not
hold is known absent without asking the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from domain.events import EventRecord
from ledger.store import SideCursor
from projections.bulk_write import delete_keys, upsert_rows
from projections.history_cache import HistoryCache
from projections.view import Key, Row, Table

ROW_LIMIT = 100_000
"""Rows a cache keeps at most: past it, it starts again empty and asks the database for what it lacks."""


class RowCache:
    """One read model's looked-up rows as committed (None: known absent), kept between its batches."""

    def __init__(self, lookups: tuple[Table, ...], limit: int | None = None) -> None:
        self.lookups = {table.name for table in lookups}
        self.limit = ROW_LIMIT if limit is None else limit
        self.rows: dict[str, dict[Key, Row | None]] = {name: {} for name in self.lookups}
        self.complete = False

    def size(self) -> int:
        """How many rows (and known absences) are held."""
        return sum(len(rows) for rows in self.rows.values())

    def drop(self) -> None:
        """Forget everything: the next reads ask the database."""
        for rows in self.rows.values():
            rows.clear()
        self.complete = False

    def start_complete(self, cursor: SideCursor) -> None:
        """Hold every row from now on if the looked-up tables are empty (a projection reset or never run)."""
        self.drop()
        for name in self.lookups:
            cursor.execute(f"SELECT 1 AS found FROM {name} LIMIT 1")
            if cursor.fetchone() is not None:
                return
        self.complete = True

    def commit(self, overlay: dict[str, dict[Key, Row | None]]) -> None:
        """Take in a batch's writes once they are in the database."""
        for name, rows in overlay.items():
            if name in self.rows:
                self.rows[name].update(rows)
        if self.size() > self.limit:
            self.drop()


class BufferedView:
    """A ``View`` whose writes wait in memory until ``flush``; histories come from a ``HistoryCache``."""

    def __init__(self, cursor: SideCursor, cache: RowCache, histories: HistoryCache) -> None:
        self.cursor = cursor
        self.cache = cache
        self.histories = histories
        self.overlay: dict[str, dict[Key, Row | None]] = {}
        self.tables: dict[str, Table] = {}
        self._undo: list[tuple[str, Key, bool, Row | None]] | None = None

    def get(self, table: Table, key: Key) -> Row | None:
        """The row as this batch left it, else as committed (from the cache when it knows)."""
        stored_key = table.storable_key(key)
        pending = self.overlay.get(table.name)
        if pending is not None and stored_key in pending:
            row = pending[stored_key]
            return None if row is None else dict(row)
        cached = self.cache.rows.get(table.name)
        if cached is not None:
            if stored_key in cached:
                row = cached[stored_key]
                return None if row is None else dict(row)
            if self.cache.complete:
                return None
        self.cursor.execute(f"SELECT * FROM {table.name} WHERE {table.where_key()}", stored_key)
        found = self.cursor.fetchone()
        if cached is not None:
            cached[stored_key] = found
        return None if found is None else dict(found)

    def put(self, table: Table, row: Row) -> None:
        """Insert or replace at flush (the row is made storable now, so a bad value fails its own event)."""
        stored = table.storable(row)
        self._write(table, table.key_of(stored), stored)

    def delete(self, table: Table, key: Key) -> None:
        """Delete at flush."""
        self._write(table, table.storable_key(key), None)

    def _write(self, table: Table, key: Key, row: Row | None) -> None:
        pending = self.overlay.setdefault(table.name, {})
        self.tables[table.name] = table
        if self._undo is not None:
            self._undo.append((table.name, key, key in pending, pending.get(key)))
        pending[key] = row

    def history(self, aggregate_id: UUID, through_version: int) -> list[EventRecord]:
        """One aggregate's records up to the version."""
        return self.histories.history(aggregate_id, through_version)

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Remember what each write replaced, and put it back if the block fails."""
        outer, self._undo = self._undo, []
        try:
            yield
        except BaseException:
            for name, key, existed, previous in reversed(self._undo):
                if existed:
                    self.overlay[name][key] = previous
                else:
                    self.overlay[name].pop(key, None)
            raise
        finally:
            undone, self._undo = self._undo, outer
            if outer is not None:
                outer.extend(undone)

    def flush(self) -> None:
        """Write the batch: per table, its deletions then its upserts, in as few statements as the backend allows."""
        for name, rows in self.overlay.items():
            table = self.tables[name]
            delete_keys(self.cursor, table, [key for key, row in rows.items() if row is None])
            upsert_rows(self.cursor, table, [row for row in rows.values() if row is not None])

"""The write floor under any rebuild: the read models' own rows written back, and nothing else.

A rebuild reads the log, decodes it, folds it into rows and writes them. The last
step alone has a cost no Python can remove: the database's work per row (the heap,
and every index the migrations declare). Here the rows the rebuild left are read
out, the tables emptied, and the rows written back with the rebuild's own bulk
writer (``projections/bulk_write.py``), spread over as many transactions as the
rebuild commits (one per ``runner.BATCH`` events). A rebuild writes at least
these rows (it may write a status row several times as a product moves on), so
``events / seconds`` here bounds any rebuild's rate on this backend from above,
however fast the decoding and folding become (README, "Scale").

Run on the bench's scratch store only: the tables end as they began.
"""

from __future__ import annotations

import time
from typing import Any

from ledger.store import EventStore
from projections import runner
from projections.bulk_write import upsert_rows
from projections.view import Row, Table


def _tables() -> list[Table]:
    return [table for projection in runner.PROJECTIONS for table in projection.tables]


def _take_rows(store: EventStore, tables: list[Table]) -> dict[Table, list[Row]]:
    """Every row of the tables, then the tables emptied, in one transaction."""
    taken: dict[Table, list[Row]] = {}
    with store.side_transaction() as cursor:
        for table in tables:
            cursor.execute(f"SELECT {', '.join(table.columns)} FROM {table.name}")
            taken[table] = [dict(row) for row in cursor.fetchall()]
            cursor.execute(f"DELETE FROM {table.name}")
    return taken


def write_floor_seconds(store: EventStore, events: int) -> tuple[float, int]:
    """Seconds to write back every read-model row in the rebuild's transactions, and how many rows that is."""
    taken = _take_rows(store, _tables())
    transactions = max(1, -(-events // runner.BATCH))
    started = time.perf_counter()
    for index in range(transactions):
        with store.side_transaction() as cursor:
            for table, rows in taken.items():
                share: list[Any] = rows[index * len(rows) // transactions : (index + 1) * len(rows) // transactions]
                upsert_rows(cursor, table, share)
    return time.perf_counter() - started, sum(len(rows) for rows in taken.values())

"""Many rows of one table written in as few statements as each backend allows, inside the caller's transaction.

SQLite runs in this process, so ``executemany`` of the one-row upsert (each row
dict bound by name) costs little per row. PostgreSQL would still parse, plan and
answer one statement per row, pipelined or not: there the rows go as one array per
column through ``unnest``, a single ``INSERT … SELECT … ON CONFLICT DO UPDATE`` (or
``DELETE … WHERE key IN``) per table per batch; what remains is the server's own
work per row (the heap and every index). The keys of one call must be
distinct (an upsert may not touch a row twice in one statement); a batch's
overlay holds each key once.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from ledger.store import SideCursor
from projections.storable import schema
from projections.view import Key, Row, Table

ARRAY_TYPES = {"text": "text[]", "integer": "bigint[]"}


@cache
def _arrays(table: Table, columns: tuple[str, ...]) -> str:
    """``unnest(%b::text[], %b::bigint[], …)`` for the columns, typed as the migrations declare them.

    The arrays go in psycopg's binary format (``%b``): dumping a text array as text costs ten times more.
    """
    kinds = schema()[table.name]
    return "unnest(" + ", ".join(f"%b::{ARRAY_TYPES[kinds[column].kind]}" for column in columns) + ")"


@cache
def _upsert_sql(table: Table) -> str:
    """The upsert of many rows given as one array per column (PostgreSQL)."""
    names = ", ".join(table.columns)
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM {_arrays(table, table.columns)} {_conflict(table)}"


@cache
def _conflict(table: Table) -> str:
    """What an upsert does with a row whose key exists: replace every other column."""
    updates = ", ".join(f"{c} = excluded.{c}" for c in table.columns if c not in table.key)
    return f"ON CONFLICT ({', '.join(table.key)}) " + ("DO NOTHING" if not updates else f"DO UPDATE SET {updates}")


@cache
def _named_upsert_sql(table: Table) -> str:
    """The one-row upsert with ``:column`` parameters, so SQLite binds each row dict as it is."""
    marks = ", ".join(f":{column}" for column in table.columns)
    return f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks}) {_conflict(table)}"


@cache
def _delete_sql(table: Table) -> str:
    return f"DELETE FROM {table.name} WHERE ({', '.join(table.key)}) IN (SELECT * FROM {_arrays(table, table.key)})"


def _columns_of(values: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into one list per column."""
    return [[row[index] for row in values] for index in range(width)]


def upsert_rows(cursor: SideCursor, table: Table, rows: Sequence[Row]) -> None:
    """Insert or replace each row (already storable), keys distinct."""
    if not rows:
        return
    if cursor.backend == "sqlite":
        cursor.cursor.executemany(_named_upsert_sql(table), rows)  # the row dicts bound by name, no copy
        return
    columns = [[row[column] for row in rows] for column in table.columns]
    cursor.execute(_upsert_sql(table), columns)


def delete_keys(cursor: SideCursor, table: Table, keys: Sequence[Key]) -> None:
    """Delete the rows with these keys (already storable), if they exist."""
    if not keys:
        return
    if cursor.backend == "sqlite":
        cursor.cursor.executemany(f"DELETE FROM {table.name} WHERE {table.where_key()}".replace("%s", "?"), keys)
        return
    cursor.execute(_delete_sql(table), _columns_of(keys, len(table.key)))

"""One cursor interface for the side tables, whichever backend holds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SideCursor:
    """A cursor that speaks one parameter style (``%s``) on both backends."""

    def __init__(self, cursor: Any, backend: str) -> None:
        self.cursor = cursor
        self.backend = backend

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        if self.backend == "sqlite":
            sql = sql.replace("%s", "?")
        self.cursor.execute(sql, tuple(params))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row, in one call: psycopg pipelines them, SQLite loops in C.

        A log of a million events closes about a million Merkle subtrees; one round trip per row
        made a checkpoint over it take minutes on PostgreSQL.
        """
        if not rows:
            return
        if self.backend == "sqlite":
            sql = sql.replace("%s", "?")
        self.cursor.executemany(sql, [tuple(row) for row in rows])

    def fetchall(self) -> list[dict[str, Any]]:
        """All rows as dicts."""
        rows = self.cursor.fetchall()
        return [dict(row) for row in rows]

    def fetchone(self) -> dict[str, Any] | None:
        """One row as a dict, or None."""
        row = self.cursor.fetchone()
        return None if row is None else dict(row)

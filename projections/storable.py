"""Values a read-model column can take on both backends, whatever a signed event holds.

A stored event is evidence and is never changed, but its text may hold what a
database text column refuses: PostgreSQL refuses NUL (U+0000), and neither
backend's driver can encode a lone surrogate as UTF-8. Read models are for
display, so every row and every key passes through ``storable_row`` /
``storable_key`` before it reaches a view (the live tables and the in-memory
rebuild alike, so ``projections check`` compares like with like). Such
characters become U+FFFD, the replacement character, which shows the reader
that a character was there that cannot be displayed; the signed bytes stay
exact wherever the envelope itself is shown (`custody show`, the timeline
endpoint, exports).

A value of the wrong kind for its column (a list where text is expected, text
where an integer is, nothing where a value is required, an integer beyond 64
bits) cannot be shown truthfully: it is refused with ``UnstorableValue``, raised
identically on both backends and in memory, which the projector records as a
projection fault of that event. Column kinds are read from the SQL migrations
that create the tables, so they cannot drift from the schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from ledger.migrate import MIGRATIONS

REPLACEMENT = "\ufffd"
_UNSHOWABLE = re.compile("[\x00\ud800-\udfff]")
_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", re.DOTALL | re.IGNORECASE)
_COLUMN = re.compile(r"^\s*(\w+)\s+(TEXT|INTEGER)\b(.*)$", re.IGNORECASE)
_COMPOSITE_KEY = re.compile(r"^\s*PRIMARY KEY\s*\(([^)]*)\)", re.IGNORECASE)
INT64 = range(-(2**63), 2**63)
_ARTICLED = {"text": "a text", "integer": "an integer"}


class UnstorableValue(ValueError):
    """A row value its column cannot take; names the table and column, never the value (it may be personal)."""


@dataclass(frozen=True)
class Column:
    """What a column accepts: text or integer, and whether it may be empty."""

    kind: str
    required: bool


@cache
def schema() -> dict[str, dict[str, Column]]:
    """Every projection table's columns, as the SQLite migrations declare them (the PostgreSQL ones mirror them)."""
    tables: dict[str, dict[str, Column]] = {}
    for path in sorted((MIGRATIONS / "sqlite").glob("*.sql")):
        for name, body in _TABLE.findall(path.read_text(encoding="utf-8")):
            if not name.startswith("projection_"):
                continue
            columns: dict[str, Column] = {}
            keyed: set[str] = set()
            for line in body.splitlines():
                composite = _COMPOSITE_KEY.match(line)
                if composite:
                    keyed.update(part.strip() for part in composite.group(1).split(","))
                    continue
                found = _COLUMN.match(line)
                if found:
                    column, kind, rest = found.groups()
                    required = "NOT NULL" in rest.upper() or "PRIMARY KEY" in rest.upper()
                    columns[column] = Column(kind.lower(), required)
            for column in keyed & set(columns):
                columns[column] = Column(columns[column].kind, True)
            tables[name] = columns
    return tables


def displayable(text: str) -> str:
    """The text with NUL and lone surrogates replaced by U+FFFD (unchanged when there are none)."""
    return _UNSHOWABLE.sub(REPLACEMENT, text)


def storable_value(table: str, column: str, value: Any) -> Any:
    """The value as its column stores it on both backends, or ``UnstorableValue``."""
    declared = schema().get(table, {}).get(column)
    if value is None:
        if declared is not None and declared.required:
            raise UnstorableValue(f"{table}.{column} needs a value and the event gives none")
        return None
    if isinstance(value, bool):
        value = int(value)
    kind = "text" if isinstance(value, str) else "integer" if isinstance(value, int) else None
    if kind is None or (declared is not None and declared.kind != kind):
        wanted = "a text or an integer" if declared is None else _ARTICLED[declared.kind]
        raise UnstorableValue(f"{table}.{column} takes {wanted}, not a {type(value).__name__}")
    if isinstance(value, str):
        return displayable(value)
    if value not in INT64:
        raise UnstorableValue(f"{table}.{column} takes a 64-bit integer; the event's is larger")
    return value


def storable_row(table: str, columns: tuple[str, ...], row: dict[str, Any]) -> dict[str, Any]:
    """Every column of the row, each made storable."""
    return {column: storable_value(table, column, row[column]) for column in columns}


def storable_key(table: str, key_columns: tuple[str, ...], key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A primary key made storable the same way as the rows it selects."""
    return tuple(storable_value(table, column, value) for column, value in zip(key_columns, key, strict=True))

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


def showable(text: str) -> bool:
    """True when ``displayable`` would leave the text as it is (no NUL, no lone surrogate)."""
    return _UNSHOWABLE.search(text) is None


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


def _plain(declared: Column | None, value: Any) -> bool:
    """True when ``storable_value`` would return the value unchanged: checked inline on every column of a rebuild.

    Plain ASCII text without NUL in a text column, or a 64-bit integer (not a bool) in an integer column;
    anything else takes the full rules of ``storable_value``.
    """
    kind = type(value)
    if kind is str:
        return (declared is None or declared.kind == "text") and value.isascii() and "\x00" not in value
    if kind is int:
        return (declared is None or declared.kind == "integer") and -(2**63) <= value < 2**63
    return value is None and (declared is None or not declared.required)


@cache
def _declared(table: str, columns: tuple[str, ...]) -> tuple[tuple[str, str | None, bool], ...]:
    """Each column with its declared kind (None if undeclared) and whether it needs a value, looked up once."""
    known = schema().get(table, {})
    return tuple(
        (column, None, False) if column not in known else (column, known[column].kind, known[column].required)
        for column in columns
    )


def storable_row(table: str, columns: tuple[str, ...], row: dict[str, Any]) -> dict[str, Any]:
    """Every column of the row, each made storable (the plain cases of ``_plain`` inline: this runs per column)."""
    stored = {}
    for column, kind, required in _declared(table, columns):
        value = row[column]
        given = type(value)
        if given is str:
            if kind != "integer" and value.isascii() and "\x00" not in value:
                stored[column] = value
                continue
        elif given is int:
            if kind != "text" and -(2**63) <= value < 2**63:
                stored[column] = value
                continue
        elif value is None and not required:
            stored[column] = None
            continue
        stored[column] = storable_value(table, column, value)
    return stored


def storable_key(table: str, key_columns: tuple[str, ...], key: tuple[Any, ...]) -> tuple[Any, ...]:
    """A primary key made storable the same way as the rows it selects."""
    if len(key) == 1 and len(key_columns) == 1:
        value = key[0]
        if type(value) is str and value.isascii() and "\x00" not in value:
            declared = schema().get(table, {}).get(key_columns[0])
            if declared is None or declared.kind == "text":
                return key  # the common case, a text id: checked inline (one call per row looked up)
    declared_columns = schema().get(table, {})
    if len(key) == len(key_columns) and all(
        _plain(declared_columns.get(column), value) for column, value in zip(key_columns, key, strict=True)
    ):
        return key
    return tuple(storable_value(table, column, value) for column, value in zip(key_columns, key, strict=True))

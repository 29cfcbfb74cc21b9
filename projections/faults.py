"""Projection faults: stored events a read model could not project, recorded so that the read side goes on.

An event already signed and stored cannot be refused any more: undecodable
bytes, a payload of a shape its type never had, a value a column cannot take.
Halting the follower on it would stop every read for everybody, for good; so
the event is set aside for that read model and recorded here instead, with
where it is (read model, log position, aggregate, event type) and why (the
error's class and message). ``custody projections check`` lists the faults and
exits 1; ``rebuild`` replays them again, so a fixed projection clears them.

No payload value is recorded, since payloads may carry personal data: the
message goes through ``projections.redact.describe``.
Errors of the database being away or busy are not faults: they stop the batch,
which is retried whole later.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError

from ledger.store import EventStore
from projections.redact import describe
from projections.view import Row, Table

FAULTS = Table(
    "projection_faults",
    ("projection", "log_position"),
    ("projection", "log_position", "aggregate_id", "event_type", "error_class", "message"),
)
UNAVAILABLE = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
)
"""The database is away, busy or missing a table: retry the batch later, never record the event as faulty."""


def unavailable(error: BaseException) -> bool:
    """True for errors that say nothing about the event (connection lost, lock timeout, missing table)."""
    return isinstance(error, UNAVAILABLE)


def fault_row(projection: str, position: int, aggregate_id: UUID | str, event_type: str, error: Exception) -> Row:
    """The fault of one event in one read model."""
    return {
        "projection": projection,
        "log_position": position,
        "aggregate_id": str(aggregate_id),
        "event_type": event_type,
        "error_class": type(error).__name__,
        "message": describe(error),
    }


def recorded_faults(store: EventStore, names: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The faults the live read models hold (all of them, or those of the named projections), in log order."""
    where, params = ("", ()) if not names else (f"WHERE projection IN ({', '.join('%s' for _ in names)})", tuple(names))
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT {', '.join(FAULTS.columns)} FROM {FAULTS.name} {where} ORDER BY log_position, projection", params
        )
        return cursor.fetchall()

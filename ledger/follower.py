"""Followers of the event log: derive something from every stored event, exactly once, resumably.

The SQLite recorder cannot push notifications (no ``subscribe``), so one polling
follower serves both backends: it reads the notification log from its tracked
position, applies a batch, and writes eventsourcing's ``Tracking`` record in the
*same transaction* as what it derived. A replayed batch fails the tracking insert
and rolls back whole; a crash mid-batch leaves the previous position. Derived
tables live in the same database as the events, so one transaction covers both.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Notification, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

from ledger.storage_faults import classify
from ledger.store import APPLICATION_NAME, EventStore, SideCursor

TRACKING_TABLE = "custody_tracking"
Progress = Callable[[int, int], None]
LOGGER = logging.getLogger("custody.storage")
# Set while serving a read (an HTTP GET): catching up is then incidental, and a storage fault that
# stops writes only leaves the read with what was derived so far. Commands that catch up on purpose
# (`custody projections …`) run without it and report the fault.
READS_MAY_LAG: ContextVar[bool] = ContextVar("reads_may_lag", default=False)


class AlreadyApplied(Exception):
    """Another runner applied this batch first; nothing was written twice."""


class Follower(ABC):
    """Subclasses name themselves and say how a batch of stored rows changes their tables."""

    name: ClassVar[str]

    def __init__(self, store: EventStore) -> None:
        self.store = store
        datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]
        self.datastore = datastore
        self.tracking: SQLiteTrackingRecorder | PostgresTrackingRecorder
        if store.backend == "postgresql":
            self.tracking = PostgresTrackingRecorder(datastore, tracking_table_name=TRACKING_TABLE)
        else:
            self.tracking = SQLiteTrackingRecorder(datastore)

    @property
    def tracking_name(self) -> str:
        """The tracking row of this follower (upstream application / follower)."""
        return f"{APPLICATION_NAME}/{self.name}"

    def position(self) -> int:
        """The last log position applied (0 when nothing yet)."""
        return self.tracking.max_tracking_id(self.tracking_name) or 0

    @abstractmethod
    def apply(self, cursor: SideCursor, rows: Sequence[Notification]) -> None:
        """Derive from ``rows`` (in log order) inside the caller's transaction."""

    def apply_batch(self, rows: Sequence[Notification]) -> None:
        """Apply rows and advance the tracking position atomically; ``AlreadyApplied`` if a peer was first."""
        try:
            with self.datastore.transaction(commit=True) as cursor:
                side = SideCursor(cursor, self.store.backend)
                if self.store.backend == "postgresql":
                    side.execute("SELECT set_config('search_path', %s, true)", (self.datastore.schema,))
                self.apply(side, rows)
                self.tracking._insert_tracking(cursor, Tracking(self.tracking_name, rows[-1].id))
        except IntegrityError as error:
            raise AlreadyApplied(f"{self.name}: positions up to {rows[-1].id} were already applied") from error

    def catch_up(self, *, batch: int = 1000, progress: Progress | None = None) -> int:
        """Apply everything stored after our position, batch by batch; return how many rows were applied."""
        if self.store.read_only:  # a replica: the primary derives, the replica receives (ledger/read_replica.py)
            return 0
        applied = 0
        total = self.store.size() if progress else 0  # one query less on every read when nobody watches
        while True:
            start = self.position() + 1
            rows = self.store.recorder.select_notifications(start, batch)
            if not rows:
                return applied
            try:
                self.apply_batch(rows)
            except AlreadyApplied:
                continue  # a concurrent runner moved the position: read it again
            except Exception as error:
                fault = classify(error)
                if not (READS_MAY_LAG.get() and fault is not None and fault.reads_still_work):
                    raise
                # Serving a read: a database that takes no writes (full, read-only, locked) leaves the
                # derived tables as they are rather than failing the read.
                LOGGER.warning("%s is behind the log at %d: %s (%s)", self.name, start - 1, fault.rule, fault.title)
                return applied
            applied += len(rows)
            if progress:
                progress(rows[-1].id, total)

"""The follower every read model is: decode a batch, project it into a view, guard the tracking row.

``ledger.follower.Follower`` writes the tracking row in the same transaction as
the rows, so an event is applied once and a crash loses nothing. Two things are
added here. First, the batch is refused (and re-read) unless the tracking row
still holds the position the batch was read after: a rebuild that reset it to 0,
or a peer that moved it, while this runner was reading would otherwise let a
late batch land on emptied tables. The row is created if missing and locked
first, so concurrent writers of one projection queue on it.
Second, a projection can be emptied and its row reset in one transaction.
Third, no stored event can halt a read model: a batch is projected inside
``View.attempt``; if it fails, its events are projected one by one, and each one
that fails (or did not decode) is recorded as a projection fault
(``projections.faults``) while the others are applied and the tracking position
moves past the whole batch, exactly once as before. Errors of the database
itself (away, locked) still stop the batch, to be retried whole. A read model
that replays an aggregate's whole history (status, inventory) cannot replay it
past a faulty event either: that aggregate's later events are faults too, and
its row stays at the last version that could be replayed, until a fixed
projection is rebuilt.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import ClassVar

from eventsourcing.persistence import IntegrityError, Notification

from domain.catalogue import Catalogue
from ledger.catalogue_source import replay_catalogue
from ledger.follower import TRACKING_TABLE, Follower
from ledger.store import EventStore, SideCursor
from projections.faults import FAULTS, fault_row, unavailable
from projections.logged import LoggedEvent, Undecodable, decode_batch
from projections.view import Row, SqlView, Table, View


def tracking_table(store: EventStore) -> str:
    """eventsourcing's tracking table on this backend (fixed name on SQLite)."""
    return TRACKING_TABLE if store.backend == "postgresql" else "tracking"


def lock_tracking_row(cursor: SideCursor, table: str, name: str) -> None:
    """Take the follower's tracking row before anything else (creating it at 0 if need be).

    Every writer of a projection (runner batches, rebuild) queues on this one row
    first, so two of them never hold each other's projection rows: no deadlock on
    PostgreSQL, and on SQLite the write lock is taken before any read.
    """
    cursor.execute(
        f"INSERT INTO {table} (application_name, notification_id) VALUES (%s, 0) ON CONFLICT (application_name) "
        "DO NOTHING",
        (name,),
    )
    cursor.execute(f"UPDATE {table} SET notification_id = notification_id WHERE application_name = %s", (name,))


class ProjectionFollower(Follower):
    """A read model: its tables, and how a batch of decoded events changes them."""

    tables: ClassVar[tuple[Table, ...]]
    lookups: ClassVar[tuple[Table, ...]] = ()
    """The tables ``project`` reads its own rows back from: a one-pass runner keeps them in memory between
    batches (``projections.buffered_view``). Only speed depends on it: a table not named is read from the database."""

    def __init__(self, store: EventStore, catalogue: Catalogue | None = None) -> None:
        super().__init__(store)
        self.catalogue = catalogue if catalogue is not None else replay_catalogue(store).catalogue
        self._read_after: int | None = None

    @abstractmethod
    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """Fold a batch of events (in log order) into the view's tables."""

    def position(self) -> int:
        """The last position applied; remembered, since the next batch is read after it."""
        self._read_after = super().position()
        return self._read_after

    def apply(self, cursor: SideCursor, rows: Sequence[Notification]) -> None:
        """Check the tracking row has not moved since the batch was read, then project the batch."""
        table = tracking_table(self.store)
        lock_tracking_row(cursor, table, self.tracking_name)
        cursor.execute(f"SELECT notification_id FROM {table} WHERE application_name = %s", (self.tracking_name,))
        found = cursor.fetchone()
        tracked = int(found["notification_id"]) if found else 0
        expected = self._read_after
        if (expected is not None and tracked != expected) or tracked >= rows[0].id:
            raise IntegrityError(f"{self.name}: tracking moved to {tracked} while this batch was read")
        events, undecodable = decode_batch(rows)
        self.project_guarded(events, undecodable, SqlView(cursor, self.store))

    def project_guarded(
        self, events: Sequence[LoggedEvent], undecodable: Sequence[Undecodable], view: View
    ) -> list[Row]:
        """Project the batch, recording instead of raising what cannot be projected; the faults recorded."""
        faults = [fault_row(self.name, row.position, row.aggregate_id, row.type, row.error) for row in undecodable]
        if events:
            try:
                with view.attempt():
                    self.project(events, view)
            except Exception as error:
                if unavailable(error):
                    raise
                faults.extend(self._one_by_one(events, view))
        for fault in faults:
            view.put(FAULTS, fault)
        return faults

    def _one_by_one(self, events: Sequence[LoggedEvent], view: View) -> list[Row]:
        """Each event alone, in log order: the ones that fail become faults, the others are applied."""
        faults = []
        for event in events:
            try:
                with view.attempt():
                    self.project([event], view)
            except Exception as error:
                if unavailable(error):
                    raise
                faults.append(fault_row(self.name, event.position, event.aggregate_id, event.type, error))
        return faults

    def reset(self) -> None:
        """Empty the tables and set the tracking row back to 0, in one transaction (derived data only).

        The row is reset rather than deleted so the deployment role needs no DELETE
        on the tracking table other followers share; position 0 means "from the start".
        """
        with self.store.side_transaction() as cursor:
            tracking = tracking_table(self.store)
            lock_tracking_row(cursor, tracking, self.tracking_name)
            cursor.execute(
                f"UPDATE {tracking} SET notification_id = 0 WHERE application_name = %s", (self.tracking_name,)
            )
            for table in self.tables:
                cursor.execute(f"DELETE FROM {table.name}")
            cursor.execute(f"DELETE FROM {FAULTS.name} WHERE projection = %s", (self.name,))

"""Every read model from one pass over the log: each batch read and decoded once, written at once, committed once.

Following each read model on its own reads and decodes the log once per read
model and writes row by row. Here a batch is read once through the recorder,
decoded once, and handed to every projection being run; each one's rows go to a
``BufferedView`` and are written with ``executemany``; all of them, the faults,
and every tracking row commit in ONE transaction per batch. Each projection keeps
its own tracking row, so exactly once holds as with one follower: the tracking
rows are locked first, in one fixed order (no deadlock with another runner), and
the batch is refused and read again if any of them moved since this runner last
saw it. A projection behind the others is given only the events past its own
position, so projections at different positions (one just reset, one resumed)
are caught up together; an interrupted run goes on from the positions committed.

A read model's faults work as with one follower (``project_guarded``). If writing
its rows fails for a reason other than the database being away, they are rolled
back to a savepoint and the batch is projected again row by row (``SqlView``),
which records the event at fault as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Notification, Tracking

from ledger.follower import AlreadyApplied
from ledger.store import EventStore, SideCursor
from projections.buffered_view import BufferedView, RowCache
from projections.faults import unavailable
from projections.history_cache import HistoryCache
from projections.logged import LoggedEvent, Undecodable, decode_batch
from projections.projector import ProjectionFollower, lock_tracking_row, tracking_table
from projections.view import SqlView

Progress = Callable[[int, int], None]
"""Called with (position reached, log size) after each batch."""


@dataclass
class _Member:
    """One projection in the pass: where this runner last saw its tracking row, and its cached rows."""

    follower: ProjectionFollower
    cache: RowCache
    position: int = -1  # unknown until read inside a batch transaction


class OnePass:
    """Runs several projections together over the log, one transaction per batch."""

    def __init__(self, store: EventStore, chosen: Sequence[ProjectionFollower]) -> None:
        self.store = store
        self.members = sorted((_Member(f, RowCache(f.lookups)) for f in chosen), key=lambda m: m.follower.tracking_name)
        self.histories = HistoryCache(store)
        self.datastore: Any = store.recorder.datastore  # type: ignore[attr-defined]

    def run(self, *, batch: int, progress: Progress | None = None) -> dict[str, int]:
        """Apply everything stored past each projection's position; how many events each one applied."""
        applied = {m.follower.name: 0 for m in self.members}
        if not self.members:
            return applied
        total = self.store.size() if progress else 0
        while True:
            if any(m.position < 0 for m in self.members):
                self._read_positions()
            start = min(m.position for m in self.members) + 1
            rows = self.store.recorder.select_notifications(start, batch)
            if not rows:
                return applied
            events, undecodable = decode_batch(rows)
            self.histories.remember(events, undecodable)
            try:
                counts = self._apply(rows, events, undecodable)
            except AlreadyApplied:
                for member in self.members:
                    member.position = -1
                    member.cache.drop()
                continue  # another runner moved a position: read the positions again
            except BaseException:
                for member in self.members:  # nothing of this batch was committed
                    member.position = -1
                    member.cache.drop()
                raise
            for name, count in counts.items():
                applied[name] += count
            if progress:
                progress(rows[-1].id, total)

    def _read_positions(self) -> None:
        for member in self.members:
            member.position = member.follower.tracking.max_tracking_id(member.follower.tracking_name) or 0

    def _apply(
        self, rows: Sequence[Notification], events: list[LoggedEvent], undecodable: list[Undecodable]
    ) -> dict[str, int]:
        """Project the batch into every member and advance every tracking row, in one transaction."""
        last = rows[-1].id
        counts: dict[str, int] = {}
        with self.datastore.transaction(commit=True) as raw:
            cursor = SideCursor(raw, self.store.backend)
            if self.store.backend == "postgresql":
                cursor.execute("SELECT set_config('search_path', %s, true)", (self.datastore.schema,))
            self._lock(cursor)
            for member in self.members:
                if member.position >= last:
                    continue
                after = member.position
                mine = events if after < rows[0].id else [e for e in events if e.position > after]
                broken = undecodable if after < rows[0].id else [u for u in undecodable if u.position > after]
                self._project(cursor, member, mine, broken)
                member.follower.tracking._insert_tracking(raw, Tracking(member.follower.tracking_name, last))
                counts[member.follower.name] = sum(1 for row in rows if row.id > after)
        for member in self.members:
            member.position = max(member.position, last)
        return counts

    def _lock(self, cursor: SideCursor) -> None:
        """Take every member's tracking row in one order, and refuse the batch if one moved since last seen."""
        table = tracking_table(self.store)
        for member in self.members:
            name = member.follower.tracking_name
            lock_tracking_row(cursor, table, name)
            cursor.execute(f"SELECT notification_id FROM {table} WHERE application_name = %s", (name,))
            found = cursor.fetchone()
            tracked = int(found["notification_id"]) if found else 0
            if tracked != member.position:
                raise AlreadyApplied(f"{member.follower.name}: tracking moved to {tracked} while this batch was read")
            if tracked == 0 and not member.cache.complete:
                member.cache.start_complete(cursor)

    def _project(
        self, cursor: SideCursor, member: _Member, events: list[LoggedEvent], undecodable: list[Undecodable]
    ) -> None:
        """Project into memory, write at once; on a write refused, project again row by row."""
        view = BufferedView(cursor, member.cache, self.histories)
        member.follower.project_guarded(events, undecodable, view)
        cursor.execute("SAVEPOINT one_pass_flush")
        try:
            view.flush()
        except Exception as error:
            if unavailable(error):
                raise
            cursor.execute("ROLLBACK TO SAVEPOINT one_pass_flush")
            member.cache.drop()
            member.follower.project_guarded(events, undecodable, SqlView(cursor, self.store))
        else:
            member.cache.commit(view.overlay)
        cursor.execute("RELEASE SAVEPOINT one_pass_flush")


def one_pass(
    store: EventStore, chosen: Sequence[ProjectionFollower], *, batch: int, progress: Progress | None = None
) -> dict[str, int]:
    """Catch the chosen projections up together; how many events each one applied."""
    return OnePass(store, chosen).run(batch=batch, progress=progress)

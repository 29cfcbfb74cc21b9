"""`projections check`: rebuild every read model in memory from the log and compare with the live tables.

The live tables are caught up first, then each projection is recomputed from
position 1 up to its own tracking position into a ``MemoryView`` (the scratch
space: nothing is written), and every row is compared column by column. A
difference means the live tables were changed by hand, or the code or the
catalogue changed since they were written: ``projections rebuild`` repairs it.
Projection faults (stored events a read model had to set aside) are compared
the same way and listed too: while there is any, the check does not pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger.store import EventStore
from projections.faults import FAULTS, recorded_faults
from projections.logged import decode_batch
from projections.projector import ProjectionFollower, tracking_table
from projections.runner import BATCH, followers
from projections.view import Key, MemoryView, Row, Table

SHOWN_PER_TABLE = 20


@dataclass
class CheckReport:
    """Differences found, each naming the table, the row key and the column; and the recorded faults."""

    differences: list[str] = field(default_factory=list)
    rows_compared: int = 0
    faults: list[Row] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """True when the live tables equal the rebuild."""
        return not self.differences

    @property
    def passed(self) -> bool:
        """True when the live tables equal the rebuild and every stored event was projected."""
        return self.consistent and not self.faults


def _normal(value: Any) -> Any:
    """Compare across drivers: booleans as 0/1, memoryview/bytes as bytes."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def _live(store: EventStore, follower: ProjectionFollower) -> tuple[int, dict[str, dict[Key, Row]]]:
    """The follower's position and its live rows, read in one transaction."""
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT notification_id FROM {tracking_table(store)} WHERE application_name = %s",
            (follower.tracking_name,),
        )
        found = cursor.fetchone()
        tables: dict[str, dict[Key, Row]] = {}
        for table in (*follower.tables, FAULTS):
            mine = "" if table is not FAULTS else "WHERE projection = %s"
            cursor.execute(
                f"SELECT {', '.join(table.columns)} FROM {table.name} {mine}", (follower.name,) if mine else ()
            )
            rows = [{k: _normal(v) for k, v in row.items()} for row in cursor.fetchall()]
            tables[table.name] = {table.key_of(row): row for row in rows}
    return (int(found["notification_id"]) if found else 0), tables


def _compare(table: Table, live: dict[Key, Row], rebuilt: dict[Key, Row]) -> Iterator[str]:
    for key in sorted(set(live) | set(rebuilt), key=repr):
        where = f"{table.name} row {', '.join(map(str, key))}"
        if key not in live:
            yield f"{where}: missing from the live table"
        elif key not in rebuilt:
            yield f"{where}: in the live table but not in the rebuild"
        else:
            for column in table.columns:
                a, b = live[key][column], rebuilt[key][column]
                if a != b:
                    yield f"{where} column {column}: live {a!r}, rebuilt {b!r}"


def check(store: EventStore, *, progress: Callable[[int, int], None] | None = None) -> CheckReport:
    """Catch up, rebuild in memory, compare; the report lists every difference (a few per table)."""
    chosen = followers(store)
    for follower in chosen:
        follower.catch_up(batch=BATCH)
    live = {follower.name: _live(store, follower) for follower in chosen}
    until = max((position for position, _ in live.values()), default=0)
    scratch = MemoryView()
    for start in range(1, until + 1, BATCH):
        stored = store.recorder.select_notifications(start, BATCH, stop=min(start + BATCH - 1, until))
        events, undecodable = decode_batch(stored)
        scratch.remember(events, undecodable)
        for follower in chosen:
            reached = live[follower.name][0]
            mine = [event for event in events if event.position <= reached]
            broken = [row for row in undecodable if row.position <= reached]
            if mine or broken:
                follower.project_guarded(mine, broken, scratch)
        if progress and stored:
            progress(stored[-1].id, until)
    report = CheckReport(faults=recorded_faults(store))
    for follower in chosen:
        for table in (*follower.tables, FAULTS):
            rows = live[follower.name][1][table.name]
            rebuilt = scratch.rows(table)
            if table is FAULTS:
                rebuilt = {key: row for key, row in rebuilt.items() if row["projection"] == follower.name}
            report.rows_compared += len(rows)
            found = list(_compare(table, rows, rebuilt))
            report.differences.extend(found[:SHOWN_PER_TABLE])
            if len(found) > SHOWN_PER_TABLE:
                report.differences.append(f"{table.name}: {len(found) - SHOWN_PER_TABLE} more differences")
    return report

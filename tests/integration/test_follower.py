"""Followers of the log apply each event exactly once, survive a crash mid-batch, and tolerate a rival runner."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from eventsourcing.persistence import Notification

from ledger.follower import Follower
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.setup import register_staff
from ledger.store import EventStore, SideCursor


class CopyingFollower(Follower):
    """Copies each event's position and type into a table: easy to count duplicates."""

    name = "copy"
    fail_at: int | None = None

    def apply(self, cursor: SideCursor, rows: Sequence[Notification]) -> None:
        for row in rows:
            if self.fail_at is not None and row.id == self.fail_at:
                raise RuntimeError("the projector crashed half-way through a batch")
            cursor.execute("INSERT INTO copied (position, topic) VALUES (%s, %s)", (row.id, row.topic))


def make_table(store: EventStore) -> None:
    with store.side_transaction() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS copied (position BIGINT, topic TEXT)")


def copied(store: EventStore) -> list[int]:
    with store.side_transaction() as cursor:
        cursor.execute("SELECT position FROM copied ORDER BY position")
        return [int(row["position"]) for row in cursor.fetchall()]


def grow(ledger: CustodyLedger, people: int) -> None:
    start = ledger.store.size()
    for index in range(start, start + people):
        register_staff(ledger, f"nurse{index}", f"Nurse {index}", "nurse", "nurse-password", registrar="ledger")


def test_a_follower_applies_every_event_once_and_resumes_where_it_stopped(ledger: CustodyLedger) -> None:
    grow(ledger, 3)
    make_table(ledger.store)
    follower = CopyingFollower(ledger.store)
    assert follower.catch_up(batch=4) == ledger.store.size()
    grow(ledger, 2)
    assert follower.catch_up(batch=4) == 6  # two people: registration, printed name and key each
    assert copied(ledger.store) == list(range(1, ledger.store.size() + 1))
    assert follower.position() == ledger.store.size()


def test_a_crash_in_the_middle_of_a_batch_loses_nothing_and_duplicates_nothing(ledger: CustodyLedger) -> None:
    grow(ledger, 4)
    make_table(ledger.store)
    crashing = CopyingFollower(ledger.store)
    crashing.fail_at = 7
    with pytest.raises(RuntimeError, match="half-way"):
        crashing.catch_up(batch=4)
    assert copied(ledger.store) == [1, 2, 3, 4]
    assert crashing.position() == 4
    CopyingFollower(ledger.store).catch_up(batch=4)
    assert copied(ledger.store) == list(range(1, ledger.store.size() + 1))


def test_two_runners_at_once_never_apply_an_event_twice(ledger: CustodyLedger, settings: Settings) -> None:
    grow(ledger, 10)
    make_table(ledger.store)
    stores = [EventStore(settings) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(store: EventStore) -> None:
        try:
            barrier.wait()
            CopyingFollower(store).catch_up(batch=3)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    assert copied(ledger.store) == list(range(1, ledger.store.size() + 1))

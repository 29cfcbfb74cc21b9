"""Read models on both backends: incremental equals rebuild, crashes resume, rival runners never double-apply."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta

import pytest
from eventsourcing.persistence import Notification
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api import demo_journeys as j
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.store import EventStore
from projections import runner
from projections.check import check
from projections.logged import LoggedEvent
from projections.projector import ProjectionFollower
from projections.status_query import status_as_of, status_now
from projections.view import View
from tests.integration.journeys import released_and_stored
from tests.integration.projection_helpers import MOVES, play, recorder, snapshot


@hypothesis_settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moves=st.lists(st.sampled_from(MOVES), min_size=1, max_size=3),
    batches=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=3),
)
def test_after_random_accepted_journeys_incremental_projections_equal_a_full_rebuild(
    ledger: CustodyLedger, moves: list[str], batches: list[int]
) -> None:
    rec = recorder(ledger)
    sizes = itertools.cycle(batches)
    for index, move in enumerate(moves):
        play(rec, move, index)
        runner.catch_up(ledger.store, batch=next(sizes))
    incremental = snapshot(ledger.store)
    runner.rebuild(ledger.store)
    assert snapshot(ledger.store) == incremental
    assert check(ledger.store).differences == []


class SimulatedCrash(BaseException):
    """The process dying: not an error of the event (which would be recorded as a projection fault)."""


class Crashing(ProjectionFollower):
    """Applies events one by one and crashes at a chosen position, half-way through its batch."""

    fail_at = 0

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        for event in events:
            if event.position == self.fail_at:
                raise SimulatedCrash("the projector crashed half-way through a batch")
            super().project([event], view)


@pytest.mark.parametrize("projection", runner.PROJECTIONS, ids=runner.NAMES)
def test_a_crash_in_the_middle_of_a_batch_keeps_the_last_batch_and_resumption_equals_a_rebuild(
    ledger: CustodyLedger, projection: type[ProjectionFollower]
) -> None:
    rec = recorder(ledger)
    for index, move in enumerate(("infused", "quarantine")):
        play(rec, move, index)
    crashing = type(f"Crashing{projection.__name__}", (Crashing, projection), {})(ledger.store)
    crashing.fail_at = ledger.store.size() - 5
    with pytest.raises(SimulatedCrash, match="half-way"):
        crashing.catch_up(batch=10)
    assert crashing.position() < crashing.fail_at
    assert crashing.position() >= crashing.fail_at - 10
    projection(ledger.store).catch_up(batch=10)
    resumed = snapshot(ledger.store)
    runner.rebuild(ledger.store, [projection.name])
    assert snapshot(ledger.store) == resumed


def counting(projection: type[ProjectionFollower], applied: list[int], lock: threading.Lock) -> type:
    """A follower class that notes every position whose batch committed."""

    class Counting(projection):  # type: ignore[valid-type,misc]
        def apply_batch(self, rows: Sequence[Notification]) -> None:
            super().apply_batch(rows)
            with lock:
                applied.extend(row.id for row in rows)

    return Counting


@pytest.mark.parametrize("projection", runner.PROJECTIONS, ids=runner.NAMES)
def test_two_runners_at_once_never_apply_an_event_twice(
    ledger: CustodyLedger, settings: Settings, projection: type[ProjectionFollower]
) -> None:
    rec = recorder(ledger)
    for index, move in enumerate(("stored", "thawed")):
        play(rec, move, index)
    stores = [EventStore(settings) for _ in range(2)]
    applied: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(store: EventStore) -> None:
        try:
            barrier.wait()
            counting(projection, applied, lock)(store).catch_up(batch=3)
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
    assert Counter(applied) == Counter(range(1, ledger.store.size() + 1))
    assert check(ledger.store).differences == []


def test_a_rebuild_empties_a_projection_and_replays_the_log_to_the_same_rows(ledger: CustodyLedger) -> None:
    play(recorder(ledger), "thawed", 0)
    runner.catch_up(ledger.store)
    before = snapshot(ledger.store)
    applied = runner.rebuild(ledger.store)
    assert set(applied.values()) == {ledger.store.size()}
    assert snapshot(ledger.store) == before
    assert all(lag.behind == 0 for lag in runner.lags(ledger.store))


def test_check_names_the_table_row_and_column_of_a_hand_edited_projection(ledger: CustodyLedger) -> None:
    journey = released_and_stored(recorder(ledger), ledger.clock.now() - timedelta(days=40))
    runner.catch_up(ledger.store)
    with ledger.store.side_transaction() as cursor:
        cursor.execute(
            "UPDATE projection_product_status SET state = 'destroyed' WHERE product_id = %s", (str(journey.product),)
        )
    [difference] = check(ledger.store).differences
    assert f"projection_product_status row {journey.product} column state" in difference
    assert "'destroyed'" in difference and "'stored'" in difference


def test_status_as_of_a_moment_shows_what_the_ledger_had_recorded_then(ledger: CustodyLedger) -> None:
    rec = recorder(ledger)
    start = ledger.clock.now() - timedelta(days=40)
    journey = released_and_stored(rec, start)
    before = ledger.clock.now()
    time.sleep(0.01)
    rec(
        "pharmacist", "Dispensed", journey.product, start + timedelta(days=30), "verified",
        to_unit=j.UNIT, scanned_coi=journey.coi.value, scanned_patient="PSN-TEST-0001", release_verified=True,
    )  # fmt: skip
    after = ledger.clock.now()
    assert status_as_of(ledger.store, journey.product, before, ledger.catalogue)["state"] == "stored"
    assert status_as_of(ledger.store, journey.product, after, ledger.catalogue)["state"] == "dispensed"
    now = status_now(ledger.store, journey.product, after, ledger.catalogue)
    assert now["state"] == "dispensed" and now["location"]["site"] == j.UNIT
    assert status_as_of(ledger.store, journey.product, after, ledger.catalogue)["version"] == now["version"]


def test_a_rebuild_while_another_runner_catches_up_leaves_tables_equal_to_the_log(
    ledger: CustodyLedger, settings: Settings
) -> None:
    rec = recorder(ledger)
    for index, move in enumerate(("infused", "stored")):
        play(rec, move, index)
    stores = [EventStore(settings) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def catch_up(store: EventStore) -> None:
        barrier.wait()
        runner.catch_up(store, batch=2)

    def rebuild(store: EventStore) -> None:
        barrier.wait()
        runner.rebuild(store, batch=5)

    def guarded(work: Callable[[EventStore], None], store: EventStore) -> None:
        try:
            work(store)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=pair) for pair in zip((catch_up, rebuild), stores, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in stores:
        store.close()
    assert errors == []
    runner.catch_up(ledger.store)
    assert check(ledger.store).differences == []

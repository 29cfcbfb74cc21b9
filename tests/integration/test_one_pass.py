"""All read models in one pass over the log, on both backends: the rows one follower per read model writes,
resumption after a crash, and each batch's rows and tracking positions committed together or not at all."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from domain.events import Actor
from ledger.envelope import event_body, seal
from ledger.service import CustodyLedger
from ledger.settings import Settings
from ledger.store import EventStore
from projections import buffered_view, bulk_write, history_cache, runner
from projections.bench import _append_journeys, bench_projections
from projections.bench_floor import write_floor_seconds
from projections.check import check
from projections.faults import FAULTS
from projections.logged import LoggedEvent
from projections.one_pass import one_pass
from projections.projector import ProjectionFollower
from projections.timeline import TimelineFollower
from projections.view import View
from tests.integration.projection_helpers import MOVES, play, recorder, snapshot

ACTOR = Actor("courier7", "Cora Courier", "courier")
PSEUDONYM, COI = "PSN-ONE-PASS", "CHB000000000042"
SHIPMENT = "5b0f3c52-9a43-4d4b-9f55-0c7b5d3f2a11"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def append(
    ledger: CustodyLedger, product: uuid.UUID, steps: Sequence[tuple[str, dict[str, Any], datetime]]
) -> list[int]:
    """Sign and store the steps of one product in one transaction (below the domain); their log positions."""
    pair, ledger_id, prev_hash, envelopes = ledger.meta.ledger_key_pair(), ledger.meta.ledger_id(), None, []
    for version, (event_type, payload, occurred) in enumerate(steps, start=1):
        body = event_body(
            ledger_id=ledger_id, aggregate_id=product, aggregate_kind="product", version=version,
            event_type=event_type, payload=payload, occurred_at=occurred, recorded_at=ledger.clock.now(),
            actor=ACTOR, meaning="performed", prev_hash=prev_hash, key_id=pair.key_id,
        )  # fmt: skip
        envelope = seal(body, pair)
        envelopes.append(envelope)
        prev_hash = envelope.hash
    return ledger.store.append(envelopes)


def small_journey(ledger: CustodyLedger) -> tuple[uuid.UUID, list[int]]:
    """Enrolled at unit A, collected at unit B (start given with a +01:00 offset), shipped to the manufacturer."""
    product = uuid.uuid4()
    positions = append(ledger, product, [
        ("ProductEnrolled", {"coi": COI, "product_kind": "car_t", "product_code": "KYMRIAH",
                             "patient_pseudonym": PSEUDONYM, "indication": "vasculitis",
                             "treating_physician": "physician", "collection_site": "Unit A"},
         at("2026-01-10T08:00:00")),
        ("ApheresisCollected", {"din": "G123498654321", "site": "Unit B", "volume_ml": 250,
                                "started_at": "2026-01-11T09:00:00+01:00", "ended_at": "2026-01-11T12:00:00Z",
                                "preservation": "fresh"},
         at("2026-01-11T12:00:00")),
        ("ProductShipped", {"shipment_id": SHIPMENT, "leg": "to_manufacturer", "to_site": "Bench GMP"},
         at("2026-01-11T14:00:00")),
    ])  # fmt: skip
    return product, positions


def rows_of(store: EventStore, table: str, where: str, value: Any, columns: str) -> list[dict[str, Any]]:
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE {where} = %s ORDER BY 1", (value,))
        return cursor.fetchall()


def tracked(store: EventStore) -> dict[str, int]:
    return {lag.name: lag.position for lag in runner.lags(store)}


def per_projection(store: EventStore, batch: int) -> None:
    """The other path: each read model emptied and caught up by its own follower, row by row (``SqlView``)."""
    for cls in runner.PROJECTIONS:
        follower = cls(store)
        follower.reset()
        follower.catch_up(batch=batch)


def faults(store: EventStore) -> list[dict[str, Any]]:
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT * FROM {FAULTS.name} ORDER BY projection, log_position")
        return cursor.fetchall()


@pytest.mark.parametrize("path", ["one_pass", "per_projection"])
def test_a_small_journey_gives_the_rows_written_by_hand_whichever_path_projects_it(
    ledger: CustodyLedger, path: str
) -> None:
    product, (p1, p2, p3) = small_journey(ledger)
    if path == "one_pass":
        runner.rebuild(ledger.store, batch=2)  # three events over at least two batches
    else:
        per_projection(ledger.store, batch=2)
    key = str(product)

    [status] = rows_of(
        ledger.store, "projection_product_status", "product_id", key,
        "coi, patient_pseudonym, state, state_since, next_step, custodian_user_id, custodian_role, "
        "shipment_id, in_transit_to, quarantined, version, last_event_type, last_occurred_at",
    )  # fmt: skip
    assert status == {
        "coi": COI, "patient_pseudonym": PSEUDONYM, "state": "in_transit",
        "state_since": "2026-01-11T14:00:00.000000Z", "next_step": "ShipmentReceived",
        "custodian_user_id": "courier7", "custodian_role": "courier", "shipment_id": SHIPMENT,
        "in_transit_to": "Bench GMP", "quarantined": 0, "version": 3, "last_event_type": "ProductShipped",
        "last_occurred_at": "2026-01-11T14:00:00.000000Z",
    }  # fmt: skip
    timeline = rows_of(
        ledger.store, "projection_timeline", "product_id", key,
        "log_position, patient_pseudonym, coi, version, event_type, clinical, occurred_at, actor_name, payload",
    )  # fmt: skip
    collected = (
        '{"din":"G123498654321","ended_at":"2026-01-11T12:00:00Z","preservation":"fresh","site":"Unit B",'
        '"started_at":"2026-01-11T09:00:00+01:00","volume_ml":250}'
    )
    assert [{k: v for k, v in row.items() if k != "payload"} for row in timeline] == [
        {"log_position": p1, "patient_pseudonym": PSEUDONYM, "coi": COI, "version": 1,
         "event_type": "ProductEnrolled", "clinical": 0, "occurred_at": "2026-01-10T08:00:00.000000Z",
         "actor_name": "Cora Courier"},
        {"log_position": p2, "patient_pseudonym": PSEUDONYM, "coi": COI, "version": 2,
         "event_type": "ApheresisCollected", "clinical": 0, "occurred_at": "2026-01-11T12:00:00.000000Z",
         "actor_name": "Cora Courier"},
        {"log_position": p3, "patient_pseudonym": PSEUDONYM, "coi": COI, "version": 3,
         "event_type": "ProductShipped", "clinical": 0, "occurred_at": "2026-01-11T14:00:00.000000Z",
         "actor_name": "Cora Courier"},
    ]  # fmt: skip
    assert timeline[1]["payload"] == collected
    audit = rows_of(
        ledger.store, "projection_audit", "aggregate_id", key, "log_position, event_type, user_id, site, flag"
    )
    assert audit == [
        {"log_position": p1, "event_type": "ProductEnrolled", "user_id": "courier7", "site": "Unit A", "flag": None},
        {"log_position": p2, "event_type": "ApheresisCollected", "user_id": "courier7", "site": "Unit B", "flag": None},
        {"log_position": p3, "event_type": "ProductShipped", "user_id": "courier7", "site": "Unit B", "flag": None},
    ]  # fmt: skip
    assert rows_of(ledger.store, "projection_audit_sites", "aggregate_id", key, "site") == [{"site": "Unit B"}]
    assert rows_of(ledger.store, "projection_milestones", "product_id", key, "*") == [
        {"product_id": key, "product_kind": "car_t", "product_code": "KYMRIAH", "site": "Unit A",
         "first_collection_at": "2026-01-11T08:00:00.000000Z", "released_at": None, "infused_at": None}
    ]  # fmt: skip
    assert rows_of(ledger.store, "projection_timeline_products", "product_id", key, "patient_pseudonym, coi") == [
        {"patient_pseudonym": PSEUDONYM, "coi": COI}
    ]
    assert rows_of(ledger.store, "projection_followup_products", "product_id", key, "patient_pseudonym") == [
        {"patient_pseudonym": PSEUDONYM}
    ]
    assert rows_of(ledger.store, "projection_inventory", "product_id", key, "*") == []
    assert rows_of(ledger.store, "projection_followup_visits", "product_id", key, "*") == []
    assert faults(ledger.store) == []
    assert set(tracked(ledger.store).values()) == {p3}


@pytest.mark.parametrize("path", ["one_pass", "per_projection"])
def test_an_event_set_aside_as_a_fault_leaves_none_of_its_writes_behind(ledger: CustodyLedger, path: str) -> None:
    product = uuid.uuid4()
    enrolment = {
        "coi": COI, "product_kind": "car_t", "product_code": "KYMRIAH", "patient_pseudonym": PSEUDONYM,
        "indication": "vasculitis", "treating_physician": "physician", "collection_site": "Unit A",
    }  # fmt: skip
    p1, p2, p3 = append(ledger, product, [
        ("ProductEnrolled", enrolment, at("2026-01-10T08:00:00")),
        ("IdentityMismatchRecorded", {"site": "Unit Z"}, at("2026-01-10T09:00:00")),  # no field: its detail fails
        ("AnnotationAdded", {"text": "label checked"}, at("2026-01-10T10:00:00")),
    ])  # fmt: skip
    if path == "one_pass":
        runner.rebuild(ledger.store, batch=100)
    else:
        per_projection(ledger.store, batch=100)

    audit = rows_of(ledger.store, "projection_audit", "aggregate_id", str(product), "log_position, site")
    assert audit == [{"log_position": p1, "site": "Unit A"}, {"log_position": p3, "site": "Unit A"}]
    assert rows_of(ledger.store, "projection_audit_sites", "aggregate_id", str(product), "site") == [{"site": "Unit A"}]
    audit_faults = [f for f in faults(ledger.store) if f["projection"] == "audit"]
    assert [(f["log_position"], f["event_type"], f["error_class"]) for f in audit_faults] == [
        (p2, "IdentityMismatchRecorded", "KeyError")
    ]


@pytest.fixture
def generated(ledger: CustodyLedger) -> CustodyLedger:
    """Every kind of accepted journey through the domain, and thirty signed bench journeys."""
    rec = recorder(ledger)
    for index, move in enumerate(MOVES):
        play(rec, move, index)
    _append_journeys(ledger, 30)
    return ledger


@pytest.fixture
def small_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Caches small enough to overflow: histories and rows are read from the database again."""
    monkeypatch.setattr(history_cache, "LIMIT", 12)
    monkeypatch.setattr(buffered_view, "ROW_LIMIT", 9)
    yield


@pytest.mark.parametrize("caches", ["default", "overflowing"])
def test_one_pass_writes_exactly_the_rows_and_faults_of_one_follower_per_read_model(
    generated: CustodyLedger, caches: str, request: pytest.FixtureRequest
) -> None:
    store = generated.store
    per_projection(store, batch=5)
    expected, expected_faults = snapshot(store), faults(store)
    assert len(expected["projection_timeline"]) > 330 and len(expected["projection_inventory"]) >= 30
    if caches == "overflowing":
        request.getfixturevalue("small_caches")

    applied = runner.rebuild(store, batch=7)

    assert applied == dict.fromkeys(runner.NAMES, store.size())
    assert snapshot(store) == expected
    assert faults(store) == expected_faults
    assert set(tracked(store).values()) == {store.size()}
    assert check(store).differences == []


class SimulatedCrash(BaseException):
    """The process dying (not an error of an event, which would be recorded as a fault)."""


def crashing(after_batches: int) -> type[ProjectionFollower]:
    """A timeline that crashes while projecting its batch number ``after_batches + 1``."""

    class CrashingTimeline(TimelineFollower):
        seen = 0

        def project(self, events: Sequence[LoggedEvent], view: View) -> None:
            CrashingTimeline.seen += 1
            if CrashingTimeline.seen > after_batches:
                raise SimulatedCrash("the runner crashed in the middle of a batch")
            super().project(events, view)

    return CrashingTimeline


def test_a_rebuild_that_crashed_mid_way_is_resumed_from_the_tracking_positions_to_the_same_rows(
    generated: CustodyLedger,
) -> None:
    store = generated.store
    runner.rebuild(store)
    expected, expected_faults = snapshot(store), faults(store)
    chosen = runner.followers(store)
    for follower in chosen:
        follower.reset()
    chosen[1] = crashing(after_batches=3)(store)  # timeline: neither the first nor the last to be projected

    with pytest.raises(SimulatedCrash, match="middle of a batch"):
        one_pass(store, chosen, batch=10)

    assert tracked(store) == dict.fromkeys(runner.NAMES, 30)  # three batches of ten committed, all together
    with store.side_transaction() as cursor:
        cursor.execute("SELECT max(log_position) AS last, count(*) AS n FROM projection_audit")
        assert cursor.fetchone() == {"last": 30, "n": 30}
    resumed = runner.catch_up(store, batch=10)
    assert resumed == dict.fromkeys(runner.NAMES, store.size() - 30)
    assert snapshot(store) == expected
    assert faults(store) == expected_faults


def test_a_write_failing_in_the_middle_of_a_batch_leaves_neither_its_rows_nor_its_tracking_positions(
    generated: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = generated.store
    runner.rebuild(store)
    expected = snapshot(store)
    chosen = runner.followers(store)
    for follower in chosen:
        follower.reset()
    real = bulk_write.upsert_rows
    this_batch: list[str] = []
    committed: list[int] = []

    def failing(cursor: Any, table: Any, rows: Any) -> None:
        this_batch.append(table.name)
        if committed and len(this_batch) == 2:  # one table of the batch already went to the database
            raise OperationalError("the database went away while the batch was written")
        real(cursor, table, rows)

    def done(position: int, total: int) -> None:
        committed.append(position)
        this_batch.clear()

    monkeypatch.setattr(buffered_view, "upsert_rows", failing)
    with pytest.raises(OperationalError, match="went away"):
        one_pass(store, chosen, batch=20, progress=done)

    last = committed[-1]
    assert len(this_batch) == 2 and last % 20 == 0 and last < store.size()
    assert tracked(store) == dict.fromkeys(runner.NAMES, last)
    with store.side_transaction() as cursor:
        cursor.execute("SELECT max(log_position) AS last, count(*) AS n FROM projection_audit")
        assert cursor.fetchone() == {"last": last, "n": last}
        cursor.execute("SELECT count(*) AS n FROM projection_timeline WHERE log_position > %s", (last,))
        assert cursor.fetchone() == {"n": 0}
    monkeypatch.setattr(buffered_view, "upsert_rows", real)
    assert runner.catch_up(store, batch=20) == dict.fromkeys(runner.NAMES, store.size() - last)
    assert snapshot(store) == expected


def test_a_table_write_the_database_refuses_is_projected_again_row_by_row(
    generated: CustodyLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = generated.store
    per_projection(store, batch=50)
    expected, expected_faults = snapshot(store), faults(store)
    real = bulk_write.upsert_rows
    refused: list[str] = []

    def refusing(cursor: Any, table: Any, rows: Any) -> None:
        if table.name == "projection_audit" and not refused:
            refused.append(table.name)
            raise ValueError("a value the database refuses")
        real(cursor, table, rows)

    monkeypatch.setattr(buffered_view, "upsert_rows", refusing)
    runner.rebuild(store, batch=50)
    assert refused == ["projection_audit"]
    assert snapshot(store) == expected
    assert faults(store) == expected_faults


def test_a_tracking_row_moved_by_another_follower_between_batches_is_read_again_and_nothing_is_applied_twice(
    generated: CustodyLedger,
) -> None:
    store = generated.store
    runner.rebuild(store)
    expected = snapshot(store)
    delivered: list[int] = []

    class RecordingTimeline(TimelineFollower):
        def project(self, events: Sequence[LoggedEvent], view: View) -> None:
            delivered.extend(event.position for event in events)
            super().project(events, view)

    chosen = runner.followers(store)
    for follower in chosen:
        follower.reset()
    chosen[1] = RecordingTimeline(store)
    moved: list[int] = []

    def meanwhile(done: int, total: int) -> None:
        if not moved:  # after the first batch, another runner applies positions 11 to 25 of the timeline alone
            other = RecordingTimeline(store)
            other.position()
            other.apply_batch(store.recorder.select_notifications(11, 15))
            moved.append(other.position())

    applied = one_pass(store, chosen, batch=10, progress=meanwhile)

    assert moved == [25]
    assert sorted(delivered) == list(range(1, store.size() + 1))  # each event projected once, by one runner
    assert applied["timeline"] == store.size() - 15
    assert applied["audit"] == store.size()
    assert snapshot(store) == expected
    assert set(tracked(store).values()) == {store.size()}


def test_the_bench_reports_the_log_read_beside_the_rebuild_and_their_ratio(settings: Settings) -> None:
    figures = bench_projections(settings, products=4, queries=2)

    assert figures["events"] > 44  # the ledger's own first events, then eleven per product
    assert figures["log_read_per_s"] > 0 and figures["log_decode_per_s"] > 0 and figures["rebuild_per_s"] > 0
    ratio = figures["rebuild_per_s"] / figures["log_read_per_s"]
    assert figures["rebuild_over_log_read"] == pytest.approx(ratio, rel=0.01, abs=1e-4)
    assert set(figures["rebuild_per_s_by_projection"]) == set(runner.NAMES)
    floor = figures["rebuild_write_floor_per_s"] / figures["log_read_per_s"]
    assert figures["rebuild_write_floor_over_log_read"] == pytest.approx(floor, rel=0.01, abs=1e-4)
    assert figures["read_model_rows"] >= figures["events"]  # an audit row per event, and more besides


def test_the_write_floor_writes_back_exactly_the_rows_it_took(generated: CustodyLedger) -> None:
    store = generated.store
    ledger_events = store.size()
    runner.rebuild(store)
    before = snapshot(store)
    assert sum(len(rows) for rows in before.values()) > 0

    seconds, rows = write_floor_seconds(store, ledger_events)

    assert seconds > 0
    assert rows == sum(len(rows) for rows in before.values())
    assert snapshot(store) == before

"""Read-model rows are pure functions of the facts: status, deadlines, inventory, timeline, audit, metrics."""

from __future__ import annotations

from datetime import timedelta

from domain.catalogue import Catalogue
from domain.events import Actor, NewEvent
from domain.pathway import pathway_id_for
from domain.product_exception_events import Severity
from ledger.clock import parse_instant
from projections.audit import AUDIT, AuditFollower
from projections.inventory import inventory_unit
from projections.logged import LoggedEvent, instant
from projections.metrics import MILESTONES, MetricsFollower, summarise
from projections.product_status import product_status
from projections.timeline import TIMELINE, TimelineFollower
from projections.view import MemoryView
from tests.unit.domain_fixtures import (
    PATIENT,
    PHARMACIST,
    PHARMACY,
    PRODUCT_ID,
    CarTJourney,
    FakeLedger,
)
from tests.unit.pathway_fixtures import make_ready

CATALOGUE = Catalogue.default()


class LoggingLedger(FakeLedger):
    """The fake ledger, also keeping the global log order the followers read."""

    def __init__(self) -> None:
        self.log: list[LoggedEvent] = []
        super().__init__()
        make_ready(self)

    def store(self, events: list[NewEvent], actor: Actor) -> None:
        # One at a time: a decision may return several events for one aggregate (Infused, FollowUpScheduled).
        for event in events:
            super().store([event], actor)
            record = self.histories[event.aggregate_id][-1]
            self.log.append(LoggedEvent(len(self.log) + 1, event.aggregate_kind, record))


def no_shipments(shipment_id: str) -> str | None:
    return None


def status_after(last: str) -> tuple[dict[str, object], CarTJourney]:
    ledger = LoggingLedger()
    journey = CarTJourney(ledger).until(last)
    row = product_status(PRODUCT_ID, ledger.histories[PRODUCT_ID], CATALOGUE, no_shipments)
    assert row is not None
    return row, journey


def project(follower_class: type, ledger: LoggingLedger, batch: int = 3) -> MemoryView:
    """Feed the fake log to a follower's projection in batches, as the runner does."""
    view = MemoryView()
    follower = follower_class.__new__(follower_class)
    follower.catalogue = CATALOGUE
    for start in range(0, len(ledger.log), batch):
        events = ledger.log[start : start + batch]
        view.remember(events)
        follower.project(events, view)
    return view


def test_a_stored_product_is_shown_in_its_ln2_position_with_the_pharmacist_as_custodian() -> None:
    row, journey = status_after("StoredInLN2")
    assert row["state"] == "stored"
    assert (row["site"], row["tank"], row["rack"], row["box"], row["position"]) == (PHARMACY, "T2", "R4", "B1", "A3")
    assert row["custodian_user_id"] == PHARMACIST.user_id
    assert row["next_step"] == "Dispensed"
    assert row["state_since"] == instant(journey.at)
    assert row["deadline_at"] is None


def test_a_thawed_product_runs_the_catalogue_thaw_to_infusion_window() -> None:
    row, journey = status_after("Thawed")
    window = CATALOGUE.get("KYMRIAH").thaw_to_infusion_min
    assert window is not None
    assert row["deadline_kind"] == "thaw_to_infusion"
    assert row["deadline_at"] == instant(journey.thaw_completed_at + timedelta(minutes=window))
    assert row["next_step"] == "BedsideCheckPerformed"


def test_fresh_cells_travelling_in_a_room_temperature_box_run_the_shorter_window() -> None:
    ledger = LoggingLedger()
    CarTJourney(ledger).until("ToManufacturer")
    cold = product_status(PRODUCT_ID, ledger.histories[PRODUCT_ID], CATALOGUE, lambda _: "fresh_2_8c")
    warm = product_status(PRODUCT_ID, ledger.histories[PRODUCT_ID], CATALOGUE, lambda _: "room_temperature")
    assert cold is not None and warm is not None
    assert cold["deadline_kind"] == warm["deadline_kind"] == "fresh_shipping_window"
    assert warm["deadline_at"] < cold["deadline_at"]
    assert cold["in_transit_to"] == "Manufacturer Leiden"


def test_a_quarantined_product_shows_the_hold_and_its_reason_and_must_be_lifted_next() -> None:
    ledger = LoggingLedger()
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "tank alarm"}, PHARMACIST, journey.at + timedelta(1))
    row = product_status(PRODUCT_ID, ledger.histories[PRODUCT_ID], CATALOGUE, no_shipments)
    unit = inventory_unit(PRODUCT_ID, ledger.histories[PRODUCT_ID])
    assert row is not None and unit is not None
    assert (row["quarantined"], row["quarantine_reason"], row["next_step"]) == (1, "tank alarm", "QuarantineLifted")
    assert (unit["status"], unit["hold_reason"], unit["expiry"]) == ("quarantined", "tank alarm", None)


def test_an_open_deviation_is_listed_until_it_is_closed() -> None:
    ledger = LoggingLedger()
    journey = CarTJourney(ledger).until("StoredInLN2")
    at = journey.at + timedelta(hours=1)
    [deviation] = ledger.record(
        "DeviationRecorded", PRODUCT_ID, {"description": "label smudged", "severity": Severity.MINOR}, PHARMACIST, at
    )
    opened = product_status(PRODUCT_ID, ledger.histories[PRODUCT_ID], CATALOGUE, no_shipments)
    version = len(ledger.histories[PRODUCT_ID])
    closing = {"deviation_version": version, "resolution": "relabelled"}
    ledger.record("DeviationClosed", PRODUCT_ID, closing, PHARMACIST, at + timedelta(hours=1))
    closed = product_status(PRODUCT_ID, ledger.histories[PRODUCT_ID], CATALOGUE, no_shipments)
    assert opened is not None and closed is not None and deviation.type == "DeviationRecorded"
    assert opened["open_deviation_count"] == 1 and "label smudged" in str(opened["open_deviations"])
    assert closed["open_deviation_count"] == 0


def test_a_dispensed_unit_leaves_the_pharmacy_inventory() -> None:
    ledger = LoggingLedger()
    journey = CarTJourney(ledger).until("StoredInLN2")
    assert inventory_unit(PRODUCT_ID, ledger.histories[PRODUCT_ID]) is not None
    journey.until("Dispensed")
    assert inventory_unit(PRODUCT_ID, ledger.histories[PRODUCT_ID]) is None


def test_the_timeline_lists_every_pathway_and_product_event_of_the_patient_with_signer_role_and_meaning() -> None:
    ledger = LoggingLedger()
    CarTJourney(ledger).until("Infused")
    view = project(TimelineFollower, ledger)
    every = sorted(view.rows(TIMELINE).values(), key=lambda row: row["log_position"])
    rows = [row for row in every if row["patient_pseudonym"] == PATIENT]
    mine = {pathway_id_for(PATIENT), PRODUCT_ID}
    patient_events = [event for event in ledger.log if event.aggregate_id in mine]
    assert [row["event_type"] for row in rows] == [event.type for event in patient_events]
    assert rows[0]["event_type"] == "PatientEnrolled"
    assert "ProductEnrolled" in [row["event_type"] for row in rows]
    assert {row["patient_pseudonym"] for row in rows} == {PATIENT}
    assert all(row["actor_role"] and row["meaning"] for row in rows)


def test_the_audit_trail_flags_a_deviation_and_carries_the_last_named_site_forward() -> None:
    ledger = LoggingLedger()
    journey = CarTJourney(ledger).until("StoredInLN2")
    payload = {"description": "door left open", "severity": Severity.MAJOR}
    ledger.record("DeviationRecorded", PRODUCT_ID, payload, PHARMACIST, journey.at + timedelta(hours=1))
    rows = project(AuditFollower, ledger).rows(AUDIT)
    assert len(rows) == len(ledger.log)
    last = rows[(len(ledger.log),)]
    assert (last["flag"], last["site"]) == ("deviation", PHARMACY)
    assert last["detail"] == "major: door left open"


def test_vein_to_vein_runs_from_the_first_collection_start_to_the_infusion_start() -> None:
    ledger = LoggingLedger()
    CarTJourney(ledger).until("Infused")
    history = ledger.histories[PRODUCT_ID]
    collected = next(r for r in history if r.type == "ApheresisCollected").payload["started_at"]
    infused = next(r for r in history if r.type == "Infused").payload["started_at"]
    [row] = project(MetricsFollower, ledger, batch=2).rows(MILESTONES).values()
    [group] = summarise([row])
    expected = (parse_instant(infused) - parse_instant(collected)).total_seconds() / 86400
    assert group["vein_to_vein"]["count"] == 1
    assert abs(group["vein_to_vein"]["median_days"] - expected) < 0.001
    assert group["collection_to_release"]["count"] == 1 and group["release_to_infusion"]["count"] == 1

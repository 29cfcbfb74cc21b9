"""From the pharmacy to the patient: storage, dispense, thaw, two bedside checks, timely infusion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_fixtures import (
    COI,
    NURSE,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    QP,
    SECOND_NURSE,
    CarTJourney,
    FakeLedger,
    bedside,
    dispense,
    iso,
    storage,
)

from domain.errors import (
    IdentityMismatch,
    InvalidInput,
    OutOfOrder,
    ProductOnHold,
    RuleViolation,
    TerminalState,
    TimeRuleViolation,
)
from domain.events import Meaning
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger

OTHER_COI = "CHA99992600009Z"


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_a_product_stored_warmer_than_its_limit_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    ledger.refuse(
        RuleViolation,
        field="payload.temperature_c",
        rule="storage_temperature_above_limit",
        message="above KYMRIAH's storage limit of -120 °C; do not store it as is: record a "
        "TemperatureExcursionRecorded",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=storage(-100),
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_stored_product_may_be_moved_to_another_position(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record("StoredInLN2", PRODUCT_ID, {**storage(), "position": "C9"}, PHARMACIST, journey.at)
    location = ledger.product().location
    assert location is not None and location.position == "C9" and location.tank == "T2"


def test_a_product_not_yet_at_the_pharmacy_cannot_be_stored(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ProductReleased")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="wrong_state",
        message="it must be received_at_pharmacy or stored",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=storage(),
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_pharmacist_must_verify_the_release_before_dispensing(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        RuleViolation,
        field="payload.release_verified",
        rule="release_verification_required",
        message="verify the certificate of release",
        event_type="Dispensed",
        aggregate_id=PRODUCT_ID,
        payload={**dispense(), "release_verified": False},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_dispense_with_the_wrong_label_is_stopped_and_recorded_as_a_near_miss(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    error = ledger.refuse(
        IdentityMismatch,
        field="payload.scanned_coi",
        rule="identity_mismatch",
        message=f"scanned COI '{OTHER_COI}' does not match the product's COI '{COI}'",
        event_type="Dispensed",
        aggregate_id=PRODUCT_ID,
        payload=dispense(OTHER_COI),
        actor=PHARMACIST,
        at=journey.at,
    )
    assert isinstance(error, IdentityMismatch)
    [safety] = error.safety_events
    assert (safety.type, safety.aggregate_id, safety.meaning) == (
        "IdentityMismatchRecorded",
        PRODUCT_ID,
        "recorded",
    )
    assert safety.payload == {
        "step": "Dispensed",
        "field": "payload.scanned_coi",
        "expected": COI,
        "scanned": OTHER_COI,
    }
    ledger.store(error.safety_events, PHARMACIST)
    assert ledger.product().suspended


def test_a_dispense_for_the_wrong_patient_is_stopped(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    error = ledger.refuse(
        IdentityMismatch,
        field="payload.scanned_patient",
        rule="identity_mismatch",
        message="scanned patient 'PSN-0000' does not match",
        event_type="Dispensed",
        aggregate_id=PRODUCT_ID,
        payload=dispense(patient="PSN-0000"),
        actor=PHARMACIST,
        at=journey.at,
    )
    assert isinstance(error, IdentityMismatch) and len(error.safety_events) == 1


def test_a_suspended_product_is_not_dispensed_until_the_mismatch_is_resolved(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    mismatch = {"step": "label check", "field": "coi", "expected": COI, "scanned": OTHER_COI}
    ledger.record("IdentityMismatchRecorded", PRODUCT_ID, mismatch, PHARMACIST, journey.at)
    ledger.refuse(
        ProductOnHold,
        field=None,
        rule="product_suspended",
        message="suspended after an identity mismatch",
        event_type="Dispensed",
        aggregate_id=PRODUCT_ID,
        payload=dispense(),
        actor=PHARMACIST,
        at=journey.at,
    )
    ledger.record("MismatchResolved", PRODUCT_ID, {"resolution": "scanner misread"}, QP, journey.at)
    ledger.record("Dispensed", PRODUCT_ID, dispense(), PHARMACIST, journey.at)
    assert ledger.product().state is ProductState.DISPENSED


def test_only_a_dispensed_product_is_thawed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    payload = {"method": "water_bath", "started_at": iso(journey.at), "completed_at": iso(journey.at)}
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="wrong_state",
        message="the product is stored; it must be dispensed",
        event_type="Thawed",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=NURSE,
        at=journey.at,
    )


def test_a_bag_from_another_lot_is_not_thawed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    payload = {
        "method": "water_bath",
        "bag_id": "BAG-9",
        "started_at": iso(journey.at),
        "completed_at": iso(journey.at),
    }
    ledger.refuse(
        InvalidInput,
        field="payload.bag_id",
        rule="unknown_bag",
        message="BAG-9 is not a bag of lot LOT-1",
        event_type="Thawed",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=NURSE,
        at=journey.at,
    )


def test_a_thaw_cannot_complete_before_it_started(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    payload = {
        "method": "water_bath",
        "bag_id": "BAG-1",
        "started_at": iso(journey.at),
        "completed_at": iso(journey.at - timedelta(minutes=5)),
    }
    ledger.refuse(
        TimeRuleViolation,
        field="payload.completed_at",
        rule="ends_before_start",
        message="is before payload.started_at",
        event_type="Thawed",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=NURSE,
        at=journey.at,
    )


def test_the_bedside_check_cannot_be_witnessed_before_it_is_performed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="bedside_check_not_performed",
        message="no BedsideCheckPerformed",
        event_type="BedsideCheckWitnessed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(),
        actor=SECOND_NURSE,
        at=journey.at,
    )


def test_a_nurse_cannot_witness_her_own_bedside_check(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    ledger.refuse(
        RuleViolation,
        field=None,
        rule="two_distinct_users",
        message="Claire Martin performed the first check",
        event_type="BedsideCheckWitnessed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(),
        actor=NURSE,
        at=journey.at,
        meaning=Meaning.WITNESSED,
    )


def test_the_first_bedside_check_is_performed_once(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="bedside_check_already_performed",
        message="records BedsideCheckWitnessed",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(),
        actor=SECOND_NURSE,
        at=journey.at,
    )


def test_a_wristband_that_does_not_match_stops_the_witness_check(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    error = ledger.refuse(
        IdentityMismatch,
        field="payload.wristband_hospital_number",
        rule="identity_mismatch",
        message="do not proceed",
        event_type="BedsideCheckWitnessed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(patient="PSN-OTHER"),
        actor=SECOND_NURSE,
        at=journey.at,
    )
    assert isinstance(error, IdentityMismatch)
    assert error.safety_events[0].payload["step"] == "BedsideCheckWitnessed"


def test_a_nurse_cannot_infuse_without_both_bedside_checks(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="bedside_verification_required",
        message="the product is thawed; it must be bedside_verified",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=journey.infusion(timedelta(minutes=10)),
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


def test_a_nurse_cannot_infuse_after_the_thaw_window_closed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    deadline = journey.thaw_completed_at + timedelta(minutes=30)
    ledger.refuse(
        TimeRuleViolation,
        field="payload.started_at",
        rule="thaw_to_infusion_window_exceeded",
        message=f"12 min after the deadline {deadline.isoformat()} (30 min after thaw completion for KYMRIAH)",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=journey.infusion(timedelta(minutes=42)),
        actor=NURSE,
        at=journey.at + timedelta(hours=1),
    )


def test_an_infusion_cannot_start_before_thawing_completed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.refuse(
        TimeRuleViolation,
        field="payload.started_at",
        rule="infusion_before_thaw",
        message="before thawing completed",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=journey.infusion(timedelta(minutes=-5)),
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


def test_only_bags_of_the_lot_are_infused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    payload = {**journey.infusion(timedelta(minutes=10)), "bag_ids": ["BAG-7"]}
    ledger.refuse(
        InvalidInput,
        field="payload.bag_ids",
        rule="unknown_bag",
        message="BAG-7 is not a bag of lot LOT-1",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


def test_a_quarantined_product_is_not_infused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "bag leak"}, PHARMACIST, journey.at)
    ledger.refuse(
        ProductOnHold,
        field=None,
        rule="product_quarantined",
        message="quarantined (bag leak)",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=journey.infusion(timedelta(minutes=10)),
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


def test_an_infused_product_accepts_only_annotations(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Infused")
    assert ledger.product().state is ProductState.INFUSED
    ledger.refuse(
        TerminalState,
        field=None,
        rule="terminal_state",
        message="the product is infused; only annotations",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=storage(),
        actor=PHARMACIST,
        at=journey.at,
    )
    day_28 = journey.at + timedelta(days=28)
    ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "D+28", "findings": "B-cell aplasia"}, PHYSICIAN, day_28)
    adverse = {"category": "crs", "grade": 2, "description": "fever, hypotension"}
    ledger.record("AdverseEventRecorded", PRODUCT_ID, adverse, PHYSICIAN, day_28)
    assert ledger.types(PRODUCT_ID)[-2:] == ["FollowUpRecorded", "AdverseEventRecorded"]


def test_follow_up_before_infusion_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="not_infused_yet",
        message="the product is dispensed, not infused",
        event_type="FollowUpRecorded",
        aggregate_id=PRODUCT_ID,
        payload={"visit": "D+1", "findings": "x"},
        actor=PHYSICIAN,
        at=journey.at,
    )


def test_an_adverse_event_is_graded_one_to_five(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Infused")
    ledger.refuse(
        InvalidInput,
        field="payload.grade",
        rule="out_of_range",
        message="must be at most 5",
        event_type="AdverseEventRecorded",
        aggregate_id=PRODUCT_ID,
        payload={"category": "icans", "grade": 6, "description": "x"},
        actor=PHYSICIAN,
        at=journey.at,
    )


def test_a_product_not_infused_after_the_window_is_then_destroyed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    ledger.record(
        "NotInfused",
        PRODUCT_ID,
        {"reason": "expired_window", "detail": "patient febrile"},
        PHYSICIAN,
        journey.at,
    )
    assert ledger.product().state is ProductState.NOT_INFUSED
    destruction = {"reason": "window expired", "method": "incineration", "waste_stream": "gmo"}
    ledger.record("ProductDestroyed", PRODUCT_ID, destruction, PHARMACIST, journey.at)
    assert ledger.product().state is ProductState.DESTROYED and ledger.product().is_terminal


def test_a_product_still_in_manufacture_is_not_recorded_as_not_infused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingStarted")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="wrong_state",
        message="cannot record NotInfused",
        event_type="NotInfused",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "other", "detail": "x"},
        actor=PHYSICIAN,
        at=journey.at,
    )

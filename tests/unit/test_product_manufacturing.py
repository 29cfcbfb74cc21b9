"""From collection to release: apheresis, manufacture, QC, the QP's release and the exceptional release."""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_fixtures import (
    DIN,
    NURSE,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    QP,
    SECOND_DIN,
    T0,
    CarTJourney,
    FakeLedger,
    iso,
    msc_enrolment,
    msc_product_id,
    qc,
    released_batch,
)

from domain.errors import InvalidInput, OutOfOrder, ProductOnHold, RuleViolation, TimeRuleViolation
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger
from tests.unit.trial_site_fixtures import activate_trial_sites


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def apheresis(din: str = DIN, start_h: float = -4, end_h: float = -1, at: object = None) -> dict[str, object]:
    base = T0 + timedelta(days=1)
    return {
        "din": din,
        "site": "CHU Lyon apheresis unit",
        "volume_ml": 250,
        "preservation": "cryopreserved",
        "started_at": iso(base + timedelta(hours=start_h)),
        "ended_at": iso(base + timedelta(hours=end_h)),
    }


def test_a_nurse_records_an_apheresis_collection(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    ledger.record("ApheresisCollected", PRODUCT_ID, apheresis(), NURSE, T0 + timedelta(days=1))
    product = ledger.product()
    assert product.state is ProductState.COLLECTED
    assert product.latest_collection is not None and product.latest_collection.din == DIN


def test_a_collection_cannot_end_before_it_started(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    ledger.refuse(
        TimeRuleViolation,
        field="payload.ended_at",
        rule="ends_before_start",
        message="is before payload.started_at",
        event_type="ApheresisCollected",
        aggregate_id=PRODUCT_ID,
        payload=apheresis(start_h=-1, end_h=-2),
        actor=NURSE,
        at=T0 + timedelta(days=1),
    )


def test_a_collection_cannot_end_after_it_was_recorded_as_done(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    ledger.refuse(
        TimeRuleViolation,
        field="payload.ended_at",
        rule="after_occurred_at",
        message="is after the step's occurred_at",
        event_type="ApheresisCollected",
        aggregate_id=PRODUCT_ID,
        payload=apheresis(end_h=1),
        actor=NURSE,
        at=T0 + timedelta(days=1),
    )


def test_the_same_din_is_not_recorded_twice(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    at = T0 + timedelta(days=1)
    ledger.record("ApheresisCollected", PRODUCT_ID, apheresis(), NURSE, at)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="din_already_recorded",
        message=f"DIN {DIN} is already recorded",
        event_type="ApheresisCollected",
        aggregate_id=PRODUCT_ID,
        payload=apheresis(),
        actor=NURSE,
        at=at,
    )


def test_an_msc_dose_is_never_collected(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    ledger.record("ProductEnrolled", msc_product_id(), msc_enrolment(batch_id, 1), PHYSICIAN, T0 + timedelta(hours=3))
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="car_t_only",
        message="comes from a bank batch",
        event_type="ApheresisCollected",
        aggregate_id=msc_product_id(),
        payload=apheresis(),
        actor=NURSE,
        at=T0 + timedelta(days=1),
    )


def test_manufacturing_cannot_start_before_the_manufacturer_received_the_cells(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="wrong_state",
        message="the product is collected; it must be received_at_manufacturer",
        event_type="ManufacturingStarted",
        aggregate_id=PRODUCT_ID,
        payload={"lot": "L", "site": "Manufacturer Leiden"},
        actor=QP,
        at=journey.at,
    )


def test_an_apheresis_older_than_the_catalogue_allows_is_not_manufactured(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtManufacturer")
    ledger.refuse(
        TimeRuleViolation,
        field="occurred_at",
        rule="apheresis_too_old",
        message="KYMRIAH allows at most 270 days",
        event_type="ManufacturingStarted",
        aggregate_id=PRODUCT_ID,
        payload={"lot": "L", "site": "Manufacturer Leiden"},
        actor=QP,
        at=journey.at + timedelta(days=271),
    )


def test_the_lot_completed_must_be_the_lot_started(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingStarted")
    payload = {"lot": "LOT-2", "bag_ids": ["B1"], "dose_description": "d"}
    ledger.refuse(
        InvalidInput,
        field="payload.lot",
        rule="lot_mismatch",
        message="not the lot in manufacture (LOT-1)",
        event_type="ManufacturingCompleted",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=QP,
        at=journey.at,
    )


def test_a_lot_has_no_more_bags_than_the_catalogue_allows(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingStarted")
    payload = {"lot": "LOT-1", "bag_ids": ["B1", "B2", "B3", "B4"], "dose_description": "d"}
    ledger.refuse(
        InvalidInput,
        field="payload.bag_ids",
        rule="too_many_bags",
        message="KYMRIAH allows at most 3",
        event_type="ManufacturingCompleted",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=QP,
        at=journey.at,
    )


def test_a_bag_is_listed_once(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingStarted")
    payload = {"lot": "LOT-1", "bag_ids": ["B1", "B1"], "dose_description": "d"}
    ledger.refuse(
        InvalidInput,
        field="payload.bag_ids",
        rule="duplicate_bag",
        message="lists a bag twice",
        event_type="ManufacturingCompleted",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=QP,
        at=journey.at,
    )


def test_a_failed_lot_is_a_normal_path_to_a_new_collection(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingStarted")
    ledger.record("ManufacturingFailed", PRODUCT_ID, {"reason": "insufficient expansion"}, QP, journey.at)
    assert ledger.product().state is ProductState.MANUFACTURING_FAILED
    later = journey.at + timedelta(days=20)
    payload = {**apheresis(SECOND_DIN), "started_at": iso(later - timedelta(hours=3)), "ended_at": iso(later)}
    ledger.record("ApheresisCollected", PRODUCT_ID, payload, NURSE, later)
    assert ledger.product().state is ProductState.COLLECTED
    assert [c.din for c in ledger.product().collections] == [DIN, SECOND_DIN]


def test_qc_out_of_specification_blocks_the_normal_release(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingCompleted")
    ledger.record("QcResultsRecorded", PRODUCT_ID, qc(False), QP, journey.at)
    assert ledger.product().state is ProductState.QC_OUT_OF_SPEC
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="release_requires_in_spec_qc",
        message="the product is qc_out_of_spec",
        event_type="ProductReleased",
        aggregate_id=PRODUCT_ID,
        payload={"certificate_id": "C"},
        actor=QP,
        at=journey.at,
    )


def test_a_quarantined_lot_is_not_released(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "sterility retest"}, QP, journey.at)
    ledger.refuse(
        ProductOnHold,
        field=None,
        rule="product_quarantined",
        message="quarantined (sterility retest)",
        event_type="ProductReleased",
        aggregate_id=PRODUCT_ID,
        payload={"certificate_id": "C"},
        actor=QP,
        at=journey.at,
    )


def test_only_the_treating_physician_requests_an_exceptional_release(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingCompleted")
    ledger.record("QcResultsRecorded", PRODUCT_ID, qc(False), QP, journey.at)
    ledger.refuse(
        RuleViolation,
        field="user",
        rule="role_not_allowed",
        message="role 'pharmacist' may not record ExceptionalReleaseRequested",
        event_type="ExceptionalReleaseRequested",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "no alternative", "risk_assessment_ref": "RA-1"},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_an_exceptional_release_is_only_for_an_out_of_spec_or_held_product(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="exceptional_release_not_applicable",
        message="neither out of specification",
        event_type="ExceptionalReleaseRequested",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "r", "risk_assessment_ref": "RA-1"},
        actor=PHYSICIAN,
        at=journey.at,
    )


def test_an_exceptional_release_needs_a_pending_request(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingCompleted")
    ledger.record("QcResultsRecorded", PRODUCT_ID, qc(False), QP, journey.at)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="no_pending_request",
        message="no ExceptionalReleaseRequested is pending",
        event_type="ExceptionalReleaseApproved",
        aggregate_id=PRODUCT_ID,
        payload={"certificate_id": "C", "notified": ["sponsor"]},
        actor=QP,
        at=journey.at,
    )


def test_an_exceptional_release_names_who_was_notified(ledger: FakeLedger) -> None:
    activate_trial_sites(ledger)  # a trial product: the sponsor and ANSM are notified
    journey = CarTJourney(ledger, trial=True).until("ManufacturingCompleted")
    ledger.record("QcResultsRecorded", PRODUCT_ID, qc(False), QP, journey.at)
    request = {"reason": "no alternative", "risk_assessment_ref": "RA-1"}
    ledger.record("ExceptionalReleaseRequested", PRODUCT_ID, request, PHYSICIAN, journey.at)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="request_already_pending",
        message="already pending",
        event_type="ExceptionalReleaseRequested",
        aggregate_id=PRODUCT_ID,
        payload=request,
        actor=PHYSICIAN,
        at=journey.at,
    )
    ledger.refuse(
        InvalidInput,
        field="payload.notified",
        rule="too_few_items",
        message="at least 1",
        event_type="ExceptionalReleaseApproved",
        aggregate_id=PRODUCT_ID,
        payload={"certificate_id": "C", "notified": []},
        actor=QP,
        at=journey.at,
    )
    approval = {
        "certificate_id": "C-EX",
        "notified": ["sponsor", "competent_authority"],
        "accepted_failed_tests": ["viability"],
    }
    ledger.record("ExceptionalReleaseApproved", PRODUCT_ID, approval, QP, journey.at)
    product = ledger.product()
    assert product.state is ProductState.RELEASED
    assert product.exceptional_release and product.released and not product.quarantined


def test_an_exceptional_release_lifts_a_quarantine(ledger: FakeLedger) -> None:
    activate_trial_sites(ledger)  # a trial product: the sponsor and ANSM are notified
    journey = CarTJourney(ledger, trial=True).until("QcResultsRecorded")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "container doubt"}, QP, journey.at)
    ledger.record(
        "ExceptionalReleaseRequested",
        PRODUCT_ID,
        {"reason": "r", "risk_assessment_ref": "RA"},
        PHYSICIAN,
        journey.at,
    )
    ledger.record(
        "ExceptionalReleaseApproved",
        PRODUCT_ID,
        {"certificate_id": "C", "notified": ["sponsor", "competent_authority"]},
        QP,
        journey.at,
    )
    product = ledger.product()
    assert not product.quarantined and product.state is ProductState.RELEASED

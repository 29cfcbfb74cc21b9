"""The exceptions a product carries: deviations, holds, rejection, destruction, recall and corrections."""

from __future__ import annotations

import pytest
from domain_fixtures import NURSE, PHARMACIST, PHYSICIAN, PRODUCT_ID, QP, CarTJourney, FakeLedger

from domain.errors import InvalidInput, OutOfOrder, TerminalState
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger

EXCURSION = {"context": "storage", "max_c": -95.0, "duration_min": 40, "data_logger_id": "TANK-2"}
RECALL = {"recall_ref": "RC-2026-01", "reason": "vector lot contamination"}


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_a_deviation_stays_open_until_closed_by_its_version(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record(
        "DeviationRecorded",
        PRODUCT_ID,
        {"description": "label smudged", "severity": "minor"},
        PHARMACIST,
        journey.at,
    )
    version = ledger.product().version
    assert ledger.product().open_deviations == {version: "label smudged"}
    ledger.record(
        "DeviationClosed",
        PRODUCT_ID,
        {"deviation_version": version, "resolution": "relabelled"},
        QP,
        journey.at,
    )
    assert ledger.product().open_deviations == {}
    ledger.refuse(
        OutOfOrder,
        field="payload.deviation_version",
        rule="deviation_not_open",
        message=f"no open deviation recorded at version {version} (open: none)",
        event_type="DeviationClosed",
        aggregate_id=PRODUCT_ID,
        payload={"deviation_version": version, "resolution": "again"},
        actor=QP,
        at=journey.at,
    )


def test_a_deviation_can_be_recorded_after_infusion(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Infused")
    ledger.record(
        "DeviationRecorded",
        PRODUCT_ID,
        {"description": "late entry", "severity": "minor"},
        PHYSICIAN,
        journey.at,
    )
    assert ledger.types(PRODUCT_ID)[-1] == "DeviationRecorded"


def test_a_storage_temperature_alarm_quarantines_the_product(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record("TemperatureExcursionRecorded", PRODUCT_ID, EXCURSION, PHARMACIST, journey.at)
    product = ledger.product()
    assert product.quarantined and "storage temperature excursion to -95.0 °C" in product.quarantine_reason


def test_a_quarantine_is_placed_once(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "tank alarm"}, PHARMACIST, journey.at)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="already_quarantined",
        message="already quarantined (tank alarm)",
        event_type="ProductQuarantined",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "again"},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_quarantine_is_lifted_only_when_there_is_one(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    lift = {"reason": "logger fault", "assessment_ref": "QA-7"}
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="not_quarantined",
        message="the product is not quarantined",
        event_type="QuarantineLifted",
        aggregate_id=PRODUCT_ID,
        payload=lift,
        actor=PHARMACIST,
        at=journey.at,
    )
    ledger.record("TemperatureExcursionRecorded", PRODUCT_ID, EXCURSION, NURSE, journey.at)
    ledger.record("QuarantineLifted", PRODUCT_ID, lift, PHARMACIST, journey.at)
    assert not ledger.product().quarantined


def test_a_recall_quarantines_an_unused_product_and_cannot_simply_be_lifted(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record("RecallNotified", PRODUCT_ID, RECALL, PHARMACIST, journey.at)
    product = ledger.product()
    assert product.recalled and product.quarantined
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="product_recalled",
        message="a recalled product stays quarantined",
        event_type="QuarantineLifted",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "r", "assessment_ref": "a"},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_recall_reaches_an_infused_patient_for_follow_up(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Infused")
    ledger.record("RecallNotified", PRODUCT_ID, RECALL, PHARMACIST, journey.at)
    product = ledger.product()
    assert product.recalled and product.state is ProductState.INFUSED and not product.quarantined


def test_a_mismatch_is_resolved_only_when_one_is_pending(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="not_suspended",
        message="not suspended",
        event_type="MismatchResolved",
        aggregate_id=PRODUCT_ID,
        payload={"resolution": "x"},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_the_pharmacy_rejects_a_product_it_has_just_received(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    ledger.record("ReceiptRejected", PRODUCT_ID, {"reason": "shipper warm"}, PHARMACIST, journey.at)
    assert ledger.product().state is ProductState.REJECTED
    ledger.record(
        "ProductReturned",
        PRODUCT_ID,
        {"to_site": "Manufacturer Leiden", "reason": "rejected"},
        PHARMACIST,
        journey.at,
    )
    assert ledger.product().state is ProductState.RETURNED


def test_a_stored_product_cannot_be_rejected_on_receipt(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="wrong_state",
        message="it must be received_at_manufacturer or received_at_pharmacy",
        event_type="ReceiptRejected",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "x"},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_destroyed_product_cannot_be_returned(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    destruction = {"reason": "recall", "method": "autoclave", "waste_stream": "gmo"}
    ledger.record("ProductDestroyed", PRODUCT_ID, destruction, PHARMACIST, journey.at)
    ledger.refuse(
        TerminalState,
        field=None,
        rule="terminal_state",
        message="cannot record ProductReturned: the product is destroyed",
        event_type="ProductReturned",
        aggregate_id=PRODUCT_ID,
        payload={"to_site": "Manufacturer Leiden", "reason": "y"},
        actor=PHARMACIST,
        at=journey.at,
    )
    ledger.record("AnnotationAdded", PRODUCT_ID, {"text": "destruction witnessed by QA"}, PHARMACIST, journey.at)


def test_a_destruction_names_its_waste_stream(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        InvalidInput,
        field="payload.waste_stream",
        rule="invalid_choice",
        message="is not one of human_origin, gmo",
        event_type="ProductDestroyed",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "r", "method": "m", "waste_stream": "household"},
        actor=PHARMACIST,
        at=journey.at,
    )


def test_a_correction_references_an_existing_event_and_leaves_it_unchanged(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    version = ledger.product().version
    ledger.refuse(
        InvalidInput,
        field="payload.corrects_version",
        rule="no_such_version",
        message=f"the product has {version} events",
        event_type="EventCorrected",
        aggregate_id=PRODUCT_ID,
        payload={"corrects_version": version + 1, "reason": "typo", "corrections": {"position": "A4"}},
        actor=PHARMACIST,
        at=journey.at,
    )
    original = ledger.histories[PRODUCT_ID][version - 1]
    correction = {
        "corrects_version": version,
        "reason": "position misread",
        "corrections": {"position": "A4"},
    }
    ledger.record("EventCorrected", PRODUCT_ID, correction, PHARMACIST, journey.at)
    assert ledger.histories[PRODUCT_ID][version - 1] == original
    assert ledger.histories[PRODUCT_ID][-1].payload["corrections"] == {"position": "A4"}


def test_a_correction_must_say_what_it_corrects(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        InvalidInput,
        field="payload.corrections",
        rule="too_few_items",
        message="at least 1",
        event_type="EventCorrected",
        aggregate_id=PRODUCT_ID,
        payload={"corrects_version": 1, "reason": "r", "corrections": {}},
        actor=PHARMACIST,
        at=journey.at,
    )

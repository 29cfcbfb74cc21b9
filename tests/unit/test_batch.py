"""MSC bank batches: registered, tested, released, and recalled with a notice on every dose given out."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from domain_fixtures import (
    COURIER,
    NURSE,
    PHARMACIST,
    PHARMACY,
    PHYSICIAN,
    QP,
    SECOND_NURSE,
    T0,
    FakeLedger,
    batch_registration,
    bedside,
    dispatch_payload,
    dispense,
    iso,
    msc_coi,
    msc_enrolment,
    msc_product_id,
    qc,
    released_batch,
    shipment_receipt,
    storage,
)

from domain.errors import InvalidIdentifier, InvalidInput, OutOfOrder
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger

RECALL = {"recall_ref": "RC-MSC-3", "reason": "donor seroconversion"}


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def infuse_msc_dose(ledger: FakeLedger, batch_id: UUID, number: int, sequence: str, at: datetime) -> UUID:
    """Walk one MSC dose from allocation to infusion."""
    dose, coi, patient = msc_product_id(sequence), msc_coi(sequence), f"PSN-{sequence}"
    minute = timedelta(minutes=1)
    ledger.record("ProductEnrolled", dose, msc_enrolment(batch_id, number, sequence), PHYSICIAN, at)
    shipment_id = uuid4()
    ledger.record(
        "ShipmentDispatched",
        shipment_id,
        dispatch_payload([dose], "to_pharmacy", PHARMACY, "ln2_dry_shipper"),
        COURIER,
        at,
    )
    ledger.record("ShipmentReceived", shipment_id, shipment_receipt([dose], PHARMACY, coi), PHARMACIST, at + minute)
    ledger.record("StoredInLN2", dose, storage(), PHARMACIST, at + 2 * minute)
    ledger.record("Dispensed", dose, dispense(coi, patient), PHARMACIST, at + 3 * minute)
    thaw = {"method": "water_bath", "started_at": iso(at + 3 * minute), "completed_at": iso(at + 4 * minute)}
    ledger.record("Thawed", dose, thaw, NURSE, at + 4 * minute)
    ledger.record("BedsideCheckPerformed", dose, bedside(coi, patient), NURSE, at + 5 * minute)
    ledger.record("BedsideCheckWitnessed", dose, bedside(coi, patient), SECOND_NURSE, at + 6 * minute)
    infusion = {
        "started_at": iso(at + 7 * minute),
        "ended_at": iso(at + 8 * minute),
        "volume_ml": 50,
        "bag_ids": ["D1"],
    }
    ledger.record("Infused", dose, infusion, NURSE, at + 9 * minute)
    return dose


def test_a_batch_is_registered_tested_and_released(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger, doses=4)
    batch = ledger.batch(batch_id)
    assert batch.released and batch.doses_left == 4 and batch.donor_din == "A999921123456"


def test_a_batch_holds_msc_doses_only(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.product_code",
        rule="product_kind_mismatch",
        message="bank batches hold MSC doses",
        event_type="BatchRegistered",
        aggregate_id=uuid4(),
        payload=batch_registration(product_code="KYMRIAH"),
        actor=QP,
        at=T0,
    )


def test_a_batch_holds_at_least_one_dose(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.doses",
        rule="out_of_range",
        message="must be at least 1",
        event_type="BatchRegistered",
        aggregate_id=uuid4(),
        payload=batch_registration(doses=0),
        actor=QP,
        at=T0,
    )


def test_a_donor_din_is_checked(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidIdentifier,
        field="payload.donor_din",
        rule="din_format",
        message="must be 13 characters",
        event_type="BatchRegistered",
        aggregate_id=uuid4(),
        payload={**batch_registration(), "donor_din": "G12"},
        actor=QP,
        at=T0,
    )


def test_a_batch_without_qc_is_not_released(ledger: FakeLedger) -> None:
    batch_id = uuid4()
    ledger.record("BatchRegistered", batch_id, batch_registration(), QP, T0)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="release_requires_in_spec_qc",
        message="it has no QC results",
        event_type="BatchReleased",
        aggregate_id=batch_id,
        payload={"certificate_id": "C"},
        actor=QP,
        at=T0,
    )
    ledger.record("BatchQcRecorded", batch_id, qc(False), QP, T0)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="release_requires_in_spec_qc",
        message="it has QC out of specification",
        event_type="BatchReleased",
        aggregate_id=batch_id,
        payload={"certificate_id": "C"},
        actor=QP,
        at=T0,
    )


def test_a_batch_is_released_once_and_its_qc_is_then_closed(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    at = T0 + timedelta(hours=3)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="already_released",
        message="already released",
        event_type="BatchReleased",
        aggregate_id=batch_id,
        payload={"certificate_id": "C"},
        actor=QP,
        at=at,
    )
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="already_released",
        message="already released",
        event_type="BatchQcRecorded",
        aggregate_id=batch_id,
        payload=qc(True),
        actor=QP,
        at=at,
    )


def test_a_dose_is_not_allocated_by_hand(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    ledger.refuse(
        OutOfOrder,
        field="type",
        rule="derived_event",
        message="when ProductEnrolled is recorded",
        event_type="DoseAllocated",
        aggregate_id=batch_id,
        payload={"product_id": str(uuid4()), "dose_number": 1},
        actor=PHARMACIST,
        at=T0 + timedelta(hours=3),
    )


def test_a_batch_recall_reaches_every_dose_including_infused_patients(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    at = T0 + timedelta(days=1)
    infused = infuse_msc_dose(ledger, batch_id, 1, "00002M", at)
    waiting = msc_product_id("00003M")
    ledger.record("ProductEnrolled", waiting, msc_enrolment(batch_id, 2, "00003M"), PHYSICIAN, at)
    events = ledger.record("BatchRecalled", batch_id, RECALL, QP, at + timedelta(hours=1))
    assert [(e.type, e.aggregate_id) for e in events] == [
        ("BatchRecalled", batch_id),
        ("RecallNotified", infused),
        ("RecallNotified", waiting),
    ]
    assert events[1].payload == {**RECALL, "batch_id": str(batch_id)}
    given, unused = ledger.product(infused), ledger.product(waiting)
    assert given.state is ProductState.INFUSED and given.recalled and not given.quarantined
    assert unused.recalled and unused.quarantined
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="already_recalled",
        message="already recalled",
        event_type="BatchRecalled",
        aggregate_id=batch_id,
        payload=RECALL,
        actor=QP,
        at=at + timedelta(hours=2),
    )


def test_a_recalled_batch_is_not_released(ledger: FakeLedger) -> None:
    batch_id = uuid4()
    ledger.record("BatchRegistered", batch_id, batch_registration(), QP, T0)
    ledger.record("BatchQcRecorded", batch_id, qc(True), QP, T0)
    ledger.record("BatchRecalled", batch_id, RECALL, QP, T0)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="batch_recalled",
        message="cannot be released",
        event_type="BatchReleased",
        aggregate_id=batch_id,
        payload={"certificate_id": "C"},
        actor=QP,
        at=T0,
    )

"""Enrolment: a CAR-T therapy event opens under its COI; an MSC dose is taken from a released bank batch."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from domain_fixtures import (
    PATIENT,
    PHYSICIAN,
    PRODUCT_ID,
    QP,
    T0,
    TRIAL_FIELDS,
    FakeLedger,
    batch_registration,
    enrolment,
    msc_enrolment,
    msc_product_id,
    released_batch,
)

from domain.errors import InvalidIdentifier, InvalidInput, NotFound, OutOfOrder, TimeRuleViolation
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger
from tests.unit.trial_site_fixtures import activate_trial_sites


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_a_physician_enrols_a_car_t_product_under_its_coi(ledger: FakeLedger) -> None:
    activate_trial_sites(ledger)  # the lupus trial, registered, its sites active
    events = ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(**TRIAL_FIELDS), PHYSICIAN, T0)
    assert [e.type for e in events] == ["ProductEnrolled"]
    product = ledger.product()
    assert product.state is ProductState.ENROLLED
    assert product.patient_pseudonym == PATIENT
    assert product.trial == {"trial_sponsor": "Academic sponsor", "trial_protocol": "LUPUS-CAR-01"}


def test_a_product_id_must_be_the_one_derived_from_its_coi(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="aggregate_id",
        rule="aggregate_id_mismatch",
        message="is not the product id of COI",
        event_type="ProductEnrolled",
        aggregate_id=uuid4(),
        payload=enrolment(),
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_coi_with_a_wrong_check_character_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidIdentifier,
        field="payload.coi",
        rule="check_character",
        message="has check character",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(coi="CHA99992600001AZ"),
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_product_code_missing_from_the_catalogue_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.product_code",
        rule="unknown_product_code",
        message="not in the product catalogue",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(product_code="YESCARTA-X"),
        actor=PHYSICIAN,
        at=T0,
    )


def test_the_declared_kind_must_match_the_catalogue(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.product_kind",
        rule="product_kind_mismatch",
        message="KYMRIAH is a car_t product",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(product_kind="msc"),
        actor=PHYSICIAN,
        at=T0,
    )


def test_a_car_t_product_takes_no_bank_batch(ledger: FakeLedger) -> None:
    ledger.refuse(
        InvalidInput,
        field="payload.batch_id",
        rule="not_for_car_t",
        message="has no bank batch",
        event_type="ProductEnrolled",
        aggregate_id=PRODUCT_ID,
        payload=enrolment(batch_id=str(uuid4())),
        actor=PHYSICIAN,
        at=T0,
    )


def test_an_msc_dose_is_allocated_from_a_released_batch_and_starts_released(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    at = T0 + timedelta(days=1)
    events = ledger.record("ProductEnrolled", msc_product_id(), msc_enrolment(batch_id, 2), PHYSICIAN, at)
    assert [(e.type, e.aggregate_kind) for e in events] == [
        ("ProductEnrolled", "product"),
        ("DoseAllocated", "batch"),
    ]
    assert events[1].occurred_at == at and events[1].meaning == "recorded"
    dose = ledger.product(msc_product_id())
    assert dose.state is ProductState.RELEASED and dose.released and dose.dose_number == 2
    assert ledger.batch(batch_id).allocated == {2: msc_product_id()}


def test_an_msc_dose_needs_a_batch_and_a_dose_number(ledger: FakeLedger) -> None:
    payload = msc_enrolment(uuid4(), 1)
    del payload["dose_number"]
    ledger.refuse(
        InvalidInput,
        field="payload.dose_number",
        rule="required",
        message="required for an MSC dose",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=payload,
        actor=PHYSICIAN,
        at=T0,
    )


def test_an_msc_dose_from_an_unknown_batch_is_refused(ledger: FakeLedger) -> None:
    ledger.refuse(
        NotFound,
        field="payload.batch_id",
        rule="not_found",
        message="no bank batch",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=msc_enrolment(uuid4(), 1),
        actor=PHYSICIAN,
        at=T0,
    )


def test_an_msc_dose_cannot_come_from_an_unreleased_batch(ledger: FakeLedger) -> None:
    batch_id = uuid4()
    ledger.record("BatchRegistered", batch_id, batch_registration(), QP, T0)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="batch_not_released",
        message="record BatchReleased",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=msc_enrolment(batch_id, 1),
        actor=PHYSICIAN,
        at=T0 + timedelta(hours=1),
    )


def test_an_msc_dose_cannot_come_from_a_recalled_batch(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    ledger.record(
        "BatchRecalled", batch_id, {"recall_ref": "RC-1", "reason": "donor test"}, QP, T0 + timedelta(hours=3)
    )
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="batch_recalled",
        message="has been recalled",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=msc_enrolment(batch_id, 1),
        actor=PHYSICIAN,
        at=T0 + timedelta(hours=4),
    )


def test_a_dose_is_allocated_once(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    at = T0 + timedelta(hours=3)
    ledger.record("ProductEnrolled", msc_product_id("00002M"), msc_enrolment(batch_id, 1, "00002M"), PHYSICIAN, at)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="dose_already_allocated",
        message="dose 1 of batch MSC-LOT-9 is already allocated",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id("00003M"),
        payload=msc_enrolment(batch_id, 1, "00003M"),
        actor=PHYSICIAN,
        at=at,
    )


def test_a_dose_number_beyond_the_batch_is_refused(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger, doses=3)
    ledger.refuse(
        InvalidInput,
        field="payload.dose_number",
        rule="dose_number_out_of_range",
        message="beyond the batch's 3",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=msc_enrolment(batch_id, 4),
        actor=PHYSICIAN,
        at=T0 + timedelta(hours=3),
    )


def test_an_exhausted_batch_allocates_no_more_doses(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger, doses=1)
    at = T0 + timedelta(hours=3)
    ledger.record("ProductEnrolled", msc_product_id("00002M"), msc_enrolment(batch_id, 1, "00002M"), PHYSICIAN, at)
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="no_doses_left",
        message="no doses left",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id("00003M"),
        payload=msc_enrolment(batch_id, 1, "00003M"),
        actor=PHYSICIAN,
        at=at,
    )


def test_an_msc_dose_cannot_be_dated_before_the_batch_last_step(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    ledger.refuse(
        TimeRuleViolation,
        field="occurred_at",
        rule="before_previous_step",
        message="previous step of this batch",
        event_type="ProductEnrolled",
        aggregate_id=msc_product_id(),
        payload=msc_enrolment(batch_id, 1),
        actor=PHYSICIAN,
        at=T0 + timedelta(minutes=30),
    )

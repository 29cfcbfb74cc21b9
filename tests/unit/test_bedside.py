"""The real patient at the bedside: the wristband against the sealed identity, the bag in hand, twice, shortly before.

The fake ledger's identity check knows each pseudonym's hospital number
(``hospital_number_of``) and birth date (BIRTH_DATE), as the ledger's sealed identities
would; the domain sees only its verdict.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_fixtures import (
    BIRTH_DATE,
    COI,
    IDENTITY_VERSION,
    NURSE,
    PATIENT,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    SECOND_NURSE,
    CarTJourney,
    FakeLedger,
    bedside,
    hospital_number_of,
)
from freezegun import freeze_time

from domain.errors import (
    BedsideCheckExpired,
    IdentityMismatch,
    IdentityNotRegistered,
    InvalidInput,
    OutOfOrder,
    ResolverIsReporter,
)
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def thawed(ledger: FakeLedger) -> CarTJourney:
    return CarTJourney(ledger).until("Thawed")


def test_a_bedside_check_records_that_the_wristband_matched_which_identity_and_never_the_wristband(
    ledger: FakeLedger,
) -> None:
    journey = thawed(ledger)
    [event] = ledger.record("BedsideCheckPerformed", PRODUCT_ID, bedside(), NURSE, journey.at + timedelta(minutes=5))
    assert event.payload == {
        "scanned_coi": COI,
        "scanned_bag_id": "BAG-1",
        "wristband_matched": True,
        "identity_version": IDENTITY_VERSION,
    }
    assert hospital_number_of(PATIENT) not in str(event.payload) and BIRTH_DATE not in str(event.payload)


def test_a_wristband_printed_day_first_is_read_as_the_same_birth_date(ledger: FakeLedger) -> None:
    journey = thawed(ledger)
    year, month, day = BIRTH_DATE.split("-")
    scan = {**bedside(), "wristband_birth_date": f"{day}/{month}/{year}"}
    ledger.record("BedsideCheckPerformed", PRODUCT_ID, scan, NURSE, journey.at + timedelta(minutes=5))
    assert ledger.product().bedside_performed is not None


def test_another_patients_wristband_is_a_near_miss_that_records_nothing_of_either_identity(ledger: FakeLedger) -> None:
    journey = thawed(ledger)
    error = ledger.refuse(
        IdentityMismatch,
        field="payload.wristband_hospital_number",
        rule="identity_mismatch",
        message="the wristband's hospital number does not match the registered identity of patient PSN-7F3K",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(patient="PSN-NEXT-BED"),
        actor=NURSE,
        at=journey.at + timedelta(minutes=5),
    )
    assert isinstance(error, IdentityMismatch)
    [safety] = error.safety_events
    assert safety.type == "IdentityMismatchRecorded" and safety.payload["step"] == "BedsideCheckPerformed"
    assert hospital_number_of("PSN-NEXT-BED") not in str(safety.payload) + error.message
    assert hospital_number_of(PATIENT) not in str(safety.payload) + error.message


def test_a_wristband_with_another_birth_date_is_a_near_miss_on_the_birth_date(ledger: FakeLedger) -> None:
    journey = thawed(ledger)
    error = ledger.refuse(
        IdentityMismatch,
        field="payload.wristband_birth_date",
        rule="identity_mismatch",
        message="the wristband's birth date does not match",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(birth_date="1980-01-02"),
        actor=NURSE,
        at=journey.at + timedelta(minutes=5),
    )
    assert isinstance(error, IdentityMismatch)
    assert "1980-01-02" not in str(error.to_dict()) + str(error.safety_events[0].payload)


def test_an_unreadable_birth_date_is_refused_as_input_and_records_no_near_miss(ledger: FakeLedger) -> None:
    journey = thawed(ledger)
    ledger.refuse(
        InvalidInput,
        field="payload.wristband_birth_date",
        rule="invalid_date",
        message="is not a birth date",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(birth_date="31/02/1980"),
        actor=NURSE,
        at=journey.at + timedelta(minutes=5),
    )


def test_a_bag_that_was_not_thawed_for_this_patient_is_a_near_miss(ledger: FakeLedger) -> None:
    journey = thawed(ledger)
    error = ledger.refuse(
        IdentityMismatch,
        field="payload.scanned_bag_id",
        rule="identity_mismatch",
        message="scanned bag 'BAG-2' is not a thawed bag of this product (BAG-1)",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(bag="BAG-2"),
        actor=NURSE,
        at=journey.at + timedelta(minutes=5),
    )
    assert isinstance(error, IdentityMismatch)
    assert error.safety_events[0].payload["field"] == "payload.scanned_bag_id"


def test_a_patient_with_no_registered_identity_cannot_pass_the_bedside_check(ledger: FakeLedger) -> None:
    journey = thawed(ledger)
    ledger.unregistered.add(PATIENT)
    ledger.refuse(
        IdentityNotRegistered,
        field="patient_identity",
        rule="patient_identity_not_registered",
        message="no identity is registered for patient PSN-7F3K",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(),
        actor=NURSE,
        at=journey.at + timedelta(minutes=5),
    )


@pytest.mark.parametrize(("minutes", "accepted"), [(30, True), (31, False)])
def test_the_second_check_is_made_within_thirty_minutes_of_the_first(
    ledger: FakeLedger, minutes: int, accepted: bool
) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    witnessed_at = journey.at + timedelta(minutes=minutes)
    with freeze_time(witnessed_at):
        if accepted:
            ledger.record("BedsideCheckWitnessed", PRODUCT_ID, bedside(), SECOND_NURSE, witnessed_at)
            assert ledger.product().state is ProductState.BEDSIDE_VERIFIED
            return
        ledger.refuse(
            BedsideCheckExpired,
            field="occurred_at",
            rule="bedside_check_expired",
            message="is more than 30 min old",
            event_type="BedsideCheckWitnessed",
            aggregate_id=PRODUCT_ID,
            payload=bedside(),
            actor=SECOND_NURSE,
            at=witnessed_at,
        )


def test_infusion_starts_within_the_validity_of_the_checks_or_they_are_made_again(ledger: FakeLedger) -> None:
    ledger.bedside_minutes = 10
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    override = {"reason": "lymphopenia below 0.2 G/L from the disease; conditioning judged unnecessary by the RCP"}
    ledger.record("LymphodepletionOverrideRecorded", PRODUCT_ID, override, PHYSICIAN, journey.at)
    first = ledger.product().bedside_performed
    assert first is not None
    late = journey.infusion(first.at + timedelta(minutes=11) - journey.thaw_completed_at)
    with freeze_time(journey.at + timedelta(minutes=30)):
        ledger.refuse(
            BedsideCheckExpired,
            field="payload.started_at",
            rule="bedside_check_expired",
            message="more than 10 min after the first bedside check",
            event_type="Infused",
            aggregate_id=PRODUCT_ID,
            payload=late,
            actor=NURSE,
            at=journey.at + timedelta(minutes=30),
        )
    again = first.at + timedelta(minutes=11)
    ledger.record("BedsideCheckPerformed", PRODUCT_ID, bedside(), NURSE, again)
    assert ledger.product().state is ProductState.THAWED and ledger.product().bedside_witnessed is None
    ledger.record("BedsideCheckWitnessed", PRODUCT_ID, bedside(), SECOND_NURSE, again + timedelta(minutes=1))
    in_time = journey.infusion(again + timedelta(minutes=2) - journey.thaw_completed_at)
    ledger.record("Infused", PRODUCT_ID, in_time, NURSE, again + timedelta(minutes=20))
    assert ledger.product().state is ProductState.INFUSED


def test_a_new_round_of_checks_does_not_open_while_the_last_one_is_valid(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="bedside_check_already_performed",
        message="infuse",
        event_type="BedsideCheckPerformed",
        aggregate_id=PRODUCT_ID,
        payload=bedside(),
        actor=NURSE,
        at=journey.at + timedelta(minutes=1),
    )


def test_infusion_does_not_start_before_the_second_check(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    second = ledger.product().bedside_witnessed
    assert second is not None
    early = journey.infusion(second.at - timedelta(minutes=1) - journey.thaw_completed_at)
    ledger.refuse(
        BedsideCheckExpired,
        field="payload.started_at",
        rule="infusion_before_bedside_check",
        message="infusion starts once both checks are made",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=early,
        actor=NURSE,
        at=journey.at + timedelta(minutes=20),
    )


def test_the_person_whose_scan_mismatched_cannot_resolve_the_near_miss(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckPerformed")
    at = journey.at + timedelta(minutes=2)
    with pytest.raises(IdentityMismatch) as caught:
        ledger.record("BedsideCheckWitnessed", PRODUCT_ID, bedside(patient="PSN-NEXT-BED"), PHYSICIAN, at)
    ledger.store(caught.value.safety_events, PHYSICIAN)  # as the ledger stores them, signed by the scanner
    assert ledger.product().suspended
    ledger.refuse(
        ResolverIsReporter,
        field="user",
        rule="resolver_is_reporter",
        message="Dr Anne Durand recorded this near miss",
        event_type="MismatchResolved",
        aggregate_id=PRODUCT_ID,
        payload={"resolution": "wristband of the patient in the next bed scanned"},
        actor=PHYSICIAN,
        at=at + timedelta(minutes=1),
    )
    ledger.record("MismatchResolved", PRODUCT_ID, {"resolution": "next bed"}, PHARMACIST, at + timedelta(minutes=1))
    assert not ledger.product().suspended

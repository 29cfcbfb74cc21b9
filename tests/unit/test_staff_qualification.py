"""A person signs only the custody steps their training record covers, on the day they sign.

The oracle is written by hand: which steps need a qualification (custody steps on
products, shipments, pathways, batches; not registers, annotations or alarms), the
states of a qualification around its dates (expiring = fewer than 60 days left), and
the refusal each lapse gives.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import CustodyError, InvalidInput, OutOfOrder, RuleViolation
from domain.events import Actor, Meaning
from domain.registry import EVENT_TYPES, decide
from domain.staff import StaffMember, decide_staff, staff_id_for
from domain.staff_qualification import Qualification, QualificationState
from tests.unit.domain_fixtures import (
    ADMIN,
    COURIER,
    MANUFACTURER,
    NURSE,
    PHYSICIAN,
    QP,
    T0,
    CarTJourney,
    FakeLedger,
    dispatch_payload,
    make_ctx,
)
from tests.unit.pathway_fixtures import ready_ledger

DAY = T0.date()


def qualification(**changes: Any) -> dict[str, Any]:
    """A nurse's thaw-and-infusion training, valid around T0."""
    payload: dict[str, Any] = {
        "reference": "TR-THAW-1",
        "evidence": "CAR-T thawing and infusion course, certificate 2025-11",
        "valid_from": "2025-12-01",
        "valid_until": "2026-02-28",
        "events": ["Thawed", "Infused"],
    }
    payload.update(changes)
    return payload


def record_staff(ledger: FakeLedger, event_type: str, member: Actor, payload: dict[str, Any],
                 by: Actor = ADMIN, at: datetime = T0 - timedelta(days=30)) -> None:  # fmt: skip
    """Record a staff event as an administrator, into the fake ledger."""
    ctx = make_ctx(by, at, Meaning.APPROVED)
    ledger.store(decide_staff(event_type, staff_id_for(member.user_id), payload, ctx, ledger.load), by)


def nurse_record(ledger: FakeLedger) -> StaffMember:
    found = ledger.load(staff_id_for(NURSE.user_id))
    assert isinstance(found, StaffMember)
    return found


def attempt(ledger: FakeLedger, event_type: str, actor: Actor, on: date) -> CustodyError:
    """Ask the domain for ``event_type`` on a missing aggregate with no payload: it is always refused; by what?"""
    now = datetime.combine(on, T0.timetz())
    ctx = make_ctx(actor, now - timedelta(minutes=1), EVENT_TYPES[event_type].default_meaning, now=now)
    with pytest.raises(CustodyError) as caught:
        decide(event_type, uuid4(), {}, ctx, ledger.load)
    assert caught.value.rule not in {"meaning_not_allowed", "role_not_allowed"}, caught.value  # past who and how
    return caught.value


@pytest.fixture
def ledger() -> FakeLedger:
    """Everyone trained for their whole role, except the nurse, who holds only the thaw-and-infusion record."""
    fake = FakeLedger(staff=(PHYSICIAN, QP, COURIER))
    fake.register_staff(NURSE, qualified=False)
    record_staff(fake, "StaffQualificationRecorded", NURSE, qualification())
    return fake


# -- at signing ---------------------------------------------------------------------------------------


def test_a_step_the_record_covers_goes_past_the_check_on_any_day_of_its_validity(ledger: FakeLedger) -> None:
    for day in (date(2025, 12, 1), DAY, date(2026, 2, 28)):
        assert not attempt(ledger, "Thawed", NURSE, day).rule.startswith("qualification_"), day


def test_a_step_no_qualification_names_is_refused_as_missing(ledger: FakeLedger) -> None:
    refusal = attempt(ledger, "ApheresisCollected", NURSE, DAY)
    assert isinstance(refusal, RuleViolation)
    assert (refusal.rule, refusal.field) == ("qualification_missing", "user")
    assert "nurse.martin holds no qualification for ApheresisCollected" in refusal.message
    assert "custody staff qualify nurse.martin --events ApheresisCollected" in refusal.message


def test_the_day_after_the_end_the_step_is_refused_naming_the_record_its_end_and_who_renews_it(
    ledger: FakeLedger,
) -> None:
    refusal = attempt(ledger, "Infused", NURSE, date(2026, 3, 1))
    assert (refusal.rule, refusal.field) == ("qualification_expired", "user")
    assert "qualification 'TR-THAW-1' of nurse.martin for Infused, Thawed expired" in refusal.message
    assert "valid until 2026-02-28 and today is 2026-03-01" in refusal.message
    assert "an administrator renews it" in refusal.message and "recorded by admin.roy" in refusal.message


def test_before_its_first_day_the_record_does_not_cover_yet(ledger: FakeLedger) -> None:
    refusal = attempt(ledger, "Thawed", NURSE, date(2025, 11, 30))
    assert refusal.rule == "qualification_not_yet_valid"
    assert "valid from 2025-12-01, not on 2025-11-30" in refusal.message


def test_a_withdrawn_record_covers_nothing_from_its_day(ledger: FakeLedger) -> None:
    withdrawal = {"reference": "TR-THAW-1", "effective_on": "2026-01-10", "reason": "competency check failed"}
    record_staff(ledger, "StaffQualificationWithdrawn", NURSE, withdrawal)
    assert not attempt(ledger, "Thawed", NURSE, date(2026, 1, 9)).rule.startswith("qualification_")
    refusal = attempt(ledger, "Thawed", NURSE, date(2026, 1, 10))
    assert refusal.rule == "qualification_withdrawn"
    assert "withdrawn on 2026-01-10" in refusal.message


def test_renewing_under_the_same_reference_replaces_the_record(ledger: FakeLedger) -> None:
    record_staff(ledger, "StaffQualificationRecorded", NURSE, qualification(valid_until="2027-02-28"))
    assert not attempt(ledger, "Infused", NURSE, date(2026, 6, 1)).rule.startswith("qualification_")
    assert set(nurse_record(ledger).qualifications) == {"TR-THAW-1"}


def test_the_day_is_the_clocks_not_the_one_the_step_claims(ledger: FakeLedger) -> None:
    now = datetime.combine(date(2026, 3, 1), T0.timetz())
    ctx = make_ctx(NURSE, now - timedelta(days=2), Meaning.PERFORMED, now=now)  # the thaw "happened" on 27 Feb
    with pytest.raises(RuleViolation) as caught:
        decide("Thawed", uuid4(), {}, ctx, ledger.load)
    assert caught.value.rule == "qualification_expired"


def test_registers_annotations_and_alarms_need_no_training_record() -> None:
    untrained = FakeLedger(staff=())
    untrained.register_staff(ADMIN)
    untrained.register_staff(COURIER, qualified=False)
    assert not attempt(untrained, "SiteRegistered", ADMIN, DAY).rule.startswith("qualification_")
    for step in ("AnnotationAdded", "DeviationRecorded", "TemperatureExcursionRecorded", "IdentityMismatchRecorded"):
        assert not attempt(untrained, step, COURIER, DAY).rule.startswith("qualification_"), step
    assert attempt(untrained, "ShipmentDispatched", COURIER, DAY).rule == "qualification_missing"


def test_nobody_without_a_staff_record_signs_a_custody_step() -> None:
    stranger = Actor("ghost", "Nobody Known", "nurse")
    assert attempt(FakeLedger(staff=()), "Thawed", stranger, DAY).rule == "qualification_missing"


def test_a_refused_step_leaves_the_product_and_the_ledger_unchanged() -> None:
    fake = ready_ledger()
    courier_until = (T0 + timedelta(days=1)).date().isoformat()  # the journey dispatches on day 2
    fake.qualify(COURIER, reference=f"TR-{COURIER.user_id}", valid_until=courier_until)
    journey = CarTJourney(fake).until("ApheresisCollected")
    fake.refuse(
        RuleViolation, field="user", rule="qualification_expired", message=f"valid until {courier_until}",
        event_type="ShipmentDispatched", aggregate_id=uuid4(),
        payload=dispatch_payload([journey.product_id], "to_manufacturer", MANUFACTURER, "fresh_2_8c"),
        actor=COURIER, at=journey.at + timedelta(days=1),
    )  # fmt: skip


# -- the states a record shows -----------------------------------------------------------------------


def test_states_around_the_dates_expiring_within_sixty_days() -> None:
    held = Qualification("R", "e", frozenset({"Thawed"}), False, date(2026, 1, 1), date(2026, 12, 31), "admin")
    expected = {
        date(2025, 12, 31): QualificationState.NOT_YET_VALID,
        date(2026, 1, 1): QualificationState.VALID,
        date(2026, 11, 1): QualificationState.VALID,  # 60 days left
        date(2026, 11, 2): QualificationState.EXPIRING,  # 59 days left
        date(2026, 12, 31): QualificationState.EXPIRING,
        date(2027, 1, 1): QualificationState.EXPIRED,
    }
    assert {day: held.state(day) for day in expected} == expected
    assert held.covers("Thawed", date(2026, 12, 31)) and not held.covers("Infused", date(2026, 6, 1))


# -- recording a qualification -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "field", "rule"),
    [
        ({"valid_until": "2025-11-30"}, InvalidInput, "payload.valid_until", "valid_until_before_valid_from"),
        ({"events": []}, InvalidInput, "payload.events", "qualification_scope"),
        ({"role_wide": True}, InvalidInput, "payload.events", "qualification_scope"),
        ({"events": ["Thawed", "Thawd"]}, InvalidInput, "payload.events[1]", "not_a_custody_step"),
        ({"events": ["SiteRegistered"]}, InvalidInput, "payload.events[0]", "not_a_custody_step"),
        ({"events": ["DinAssigned"]}, InvalidInput, "payload.events[0]", "not_a_custody_step"),
        ({"events": ["ProductReleased"]}, RuleViolation, "payload.events[0]", "role_cannot_sign"),
        ({"valid_until": "someday"}, InvalidInput, "payload.valid_until", "invalid_date"),
        ({"evidence": " "}, InvalidInput, "payload.evidence", "empty_text"),
    ],
)
def test_a_malformed_qualification_is_refused_naming_the_field_and_stores_nothing(
    ledger: FakeLedger, changes: dict[str, Any], error: type[CustodyError], field: str, rule: str
) -> None:
    before = {key: len(history) for key, history in ledger.histories.items()}
    with pytest.raises(error) as caught:
        record_staff(ledger, "StaffQualificationRecorded", NURSE, qualification(**changes))
    assert (type(caught.value), caught.value.field, caught.value.rule) == (error, field, rule)
    assert {key: len(history) for key, history in ledger.histories.items()} == before


def test_only_people_who_sign_custody_steps_are_qualified_and_only_physicians_have_a_specialty(
    ledger: FakeLedger,
) -> None:
    ledger.register_staff(ADMIN)
    with pytest.raises(RuleViolation) as caught:
        record_staff(ledger, "StaffQualificationRecorded", ADMIN, qualification(events=[], role_wide=True))
    assert (caught.value.rule, caught.value.field) == ("role_signs_no_step", "aggregate_id")
    with pytest.raises(RuleViolation) as caught:
        record_staff(ledger, "StaffSpecialtyRecorded", NURSE, {"specialties": ["haematology"], "evidence": "RPPS"})
    assert (caught.value.rule, caught.value.field) == ("specialty_for_physicians", "payload.specialties")
    with pytest.raises(InvalidInput) as wrong:
        record_staff(ledger, "StaffSpecialtyRecorded", PHYSICIAN, {"specialties": ["astrology"], "evidence": "x"})
    assert wrong.value.field == "payload.specialties[0]"


def test_specialties_accumulate_on_the_physicians_record(ledger: FakeLedger) -> None:
    record_staff(ledger, "StaffSpecialtyRecorded", PHYSICIAN, {"specialties": ["haematology"], "evidence": "RPPS"})
    record_staff(ledger, "StaffSpecialtyRecorded", PHYSICIAN, {"specialties": ["cell_therapy"], "evidence": "FST"})
    found = ledger.load(staff_id_for(PHYSICIAN.user_id))
    assert isinstance(found, StaffMember) and found.specialties == frozenset({"haematology", "cell_therapy"})


def test_withdrawing_needs_a_held_record_not_yet_withdrawn(ledger: FakeLedger) -> None:
    withdrawal = {"reference": "TR-NONE", "effective_on": "2026-01-10", "reason": "x"}
    with pytest.raises(OutOfOrder) as caught:
        record_staff(ledger, "StaffQualificationWithdrawn", NURSE, withdrawal)
    assert (caught.value.rule, caught.value.field) == ("qualification_unknown", "payload.reference")
    record_staff(ledger, "StaffQualificationWithdrawn", NURSE, {**withdrawal, "reference": "TR-THAW-1"})
    with pytest.raises(OutOfOrder) as again:
        record_staff(ledger, "StaffQualificationWithdrawn", NURSE, {**withdrawal, "reference": "TR-THAW-1"})
    assert again.value.rule == "qualification_withdrawn"


@pytest.mark.parametrize("signer", [QP, NURSE, PHYSICIAN])
def test_no_clinical_role_records_a_training_record_not_even_the_qualified_person(
    ledger: FakeLedger, signer: Actor
) -> None:
    with pytest.raises(RuleViolation) as caught:
        record_staff(ledger, "StaffQualificationRecorded", NURSE, qualification(), by=signer)
    assert caught.value.rule == "admin_only"

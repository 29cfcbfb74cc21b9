"""Four eyes where GMP asks for them, and corrections that count (issue 13)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from domain_fixtures import (
    ADMIN,
    COURIER,
    MANUFACTURER,
    NURSE,
    OTHER_PHYSICIAN,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    QC_QP,
    QP,
    Actor,
    CarTJourney,
    FakeLedger,
    qc,
)

from domain.errors import CustodyError, InvalidInput, OutOfOrder, RuleViolation
from domain.product import ProductState, TherapyProduct
from domain.product_events import NotifiedParty
from domain.product_exception_rules import check_notified_parties
from domain.site import site_id_for
from tests.role_table import EVERYONE_IN_THE_CHAIN, allowed
from tests.unit.pathway_fixtures import ready_ledger
from tests.unit.trial_site_fixtures import activate_trial_sites

RELEASE = {"certificate_id": "CoR-1"}
LIFT = {"reason": "logger fault, product assessed usable", "assessment_ref": "QA-7"}
DESTROY = {"reason": "not infused", "method": "incineration", "waste_stream": "gmo"}


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def refuse(ledger: FakeLedger, error: type[CustodyError], rule: str, field: str | None, message: str,
           event_type: str, payload: Mapping[str, Any], actor: Actor, at: datetime) -> None:  # fmt: skip
    """A refusal on the test product, which leaves every history as it was."""
    ledger.refuse(error, field=field, rule=rule, message=message, event_type=event_type, aggregate_id=PRODUCT_ID,
                  payload=payload, actor=actor, at=at)  # fmt: skip


def test_the_qp_who_recorded_qc_cannot_release_the_lot_but_another_qp_can(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    refuse(ledger, RuleViolation, "release_by_qc_recorder", "user", "recorded this lot's QC results",
           "ProductReleased", RELEASE, QC_QP, journey.at)  # fmt: skip
    ledger.record("ProductReleased", PRODUCT_ID, RELEASE, QP, journey.at)
    assert ledger.product().released and ledger.product().duty_waivers == []


def test_a_site_that_cannot_separate_duties_says_so_and_every_such_step_is_marked(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    site = site_id_for(MANUFACTURER)
    waiver = {"reason": "one QP on site at weekends"}
    ledger.refuse(RuleViolation, field="user", rule="role_not_allowed", message="recorded by: admin",
                  event_type="DutySegregationWaived", aggregate_id=site, payload=waiver, actor=QP,
                  at=journey.at)  # fmt: skip
    ledger.record("DutySegregationWaived", site, waiver, ADMIN, journey.at)
    ledger.record("ProductReleased", PRODUCT_ID, RELEASE, QC_QP, journey.at)
    assert ledger.types(PRODUCT_ID)[-2:] == ["ProductReleased", "DutySegregationWaiverApplied"]
    assert ledger.product().duty_waivers == [f"release_by_qc_recorder at {MANUFACTURER}: one QP on site at weekends"]


def test_the_duty_setting_is_declared_once_and_ended_only_when_in_force(ledger: FakeLedger) -> None:
    site, at = site_id_for(MANUFACTURER), CarTJourney(ledger).until("ProductEnrolled").at
    ledger.refuse(OutOfOrder, field=None, rule="duty_setting_not_declared", message="no duty-segregation waiver",
                  event_type="DutySegregationRestored", aggregate_id=site, payload={"reason": "r"}, actor=ADMIN,
                  at=at)  # fmt: skip
    ledger.record("DutySegregationWaived", site, {"reason": "small unit"}, ADMIN, at)
    ledger.refuse(OutOfOrder, field=None, rule="duty_setting_already_declared", message="small unit",
                  event_type="DutySegregationWaived", aggregate_id=site, payload={"reason": "again"}, actor=ADMIN,
                  at=at)  # fmt: skip
    ledger.record("DutySegregationRestored", site, {"reason": "second QP hired"}, ADMIN, at)


def test_whoever_quarantined_does_not_lift_and_the_pharmacist_lifts_at_the_hospital(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "seal doubt"}, PHARMACIST, journey.at)
    refuse(ledger, RuleViolation, "lift_by_quarantiner", "user", "placed this quarantine",
           "QuarantineLifted", LIFT, PHARMACIST, journey.at)  # fmt: skip
    refuse(ledger, RuleViolation, "lift_by_custodian_role", "user", "at the hospital: its quarantine is lifted by a "
           "pharmacist, not a qp", "QuarantineLifted", LIFT, QP, journey.at)  # fmt: skip
    second_pharmacist = Actor("pharm.leroy", "Inès Leroy", "pharmacist")
    ledger.register_staff(second_pharmacist)
    ledger.record("QuarantineLifted", PRODUCT_ID, LIFT, second_pharmacist, journey.at)
    assert not ledger.product().quarantined


def test_at_the_manufacturer_the_qp_lifts_a_quarantine(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ManufacturingCompleted")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "bag leak suspected"}, QC_QP, journey.at)
    refuse(ledger, RuleViolation, "lift_by_custodian_role", "user", "lifted by a qp, not a pharmacist",
           "QuarantineLifted", LIFT, PHARMACIST, journey.at)  # fmt: skip
    ledger.record("QuarantineLifted", PRODUCT_ID, LIFT, QP, journey.at)
    assert not ledger.product().quarantined


def not_infused(ledger: FakeLedger) -> CarTJourney:
    journey = CarTJourney(ledger).until("Dispensed")
    ledger.record("NotInfused", PRODUCT_ID, {"reason": "patient_condition", "detail": "sepsis"}, NURSE, journey.at)
    return journey


def test_a_car_t_product_is_destroyed_as_gmo_waste_and_witnessed_by_someone_else(ledger: FakeLedger) -> None:
    journey = not_infused(ledger)
    refuse(ledger, OutOfOrder, "no_destruction_to_witness", None, "not destroyed",
           "DestructionWitnessed", {}, QP, journey.at)  # fmt: skip
    refuse(ledger, InvalidInput, "waste_route_mismatch", "payload.waste_stream", "KYMRIAH goes to gmo waste",
           "ProductDestroyed", {**DESTROY, "waste_stream": "human_origin"}, PHARMACIST, journey.at)  # fmt: skip
    ledger.record("ProductDestroyed", PRODUCT_ID, DESTROY, PHARMACIST, journey.at)
    refuse(ledger, RuleViolation, "witness_is_destroyer", "user", "destroyed this product",
           "DestructionWitnessed", {}, PHARMACIST, journey.at)  # fmt: skip
    ledger.record("DestructionWitnessed", PRODUCT_ID, {"observations": "sealed GMO bin"}, QP, journey.at)
    assert ledger.product().destruction_witnessed_by == QP.user_id
    refuse(ledger, OutOfOrder, "destruction_already_witnessed", None, "already witnessed",
           "DestructionWitnessed", {}, QP, journey.at)  # fmt: skip


def out_of_spec_requested(ledger: FakeLedger) -> CarTJourney:
    """A trial product out of specification (its notified parties are the sponsor and ANSM)."""
    activate_trial_sites(ledger)
    journey = CarTJourney(ledger, trial=True).until("ManufacturingCompleted")
    ledger.record("QcResultsRecorded", PRODUCT_ID, qc(False), QC_QP, journey.at)
    return journey


def test_only_the_products_own_treating_physician_requests_an_exceptional_release(ledger: FakeLedger) -> None:
    journey = out_of_spec_requested(ledger)
    request = {"reason": "no alternative", "risk_assessment_ref": "RA-1"}
    refuse(ledger, RuleViolation, "requested_by_treating_physician", "user", "not this product's treating physician",
           "ExceptionalReleaseRequested", request, OTHER_PHYSICIAN, journey.at)  # fmt: skip
    ledger.record("ExceptionalReleaseRequested", PRODUCT_ID, request, PHYSICIAN, journey.at)


def test_the_qp_approves_naming_exactly_the_failed_tests_and_notifies_sponsor_and_ansm(ledger: FakeLedger) -> None:
    journey = out_of_spec_requested(ledger)
    ledger.record("ExceptionalReleaseRequested", PRODUCT_ID, {"reason": "r", "risk_assessment_ref": "RA"}, PHYSICIAN,
                  journey.at)  # fmt: skip
    approval = {"certificate_id": "C-EX", "notified": ["sponsor", "competent_authority"]}
    for accepted in ([], ["sterility"], ["viability", "sterility"]):
        refuse(ledger, InvalidInput, "accepted_tests_mismatch", "payload.accepted_failed_tests",
               "exactly the tests out of specification (viability)", "ExceptionalReleaseApproved",
               {**approval, "accepted_failed_tests": accepted}, QP, journey.at)  # fmt: skip
    refuse(ledger, InvalidInput, "notified_parties_missing", "payload.notified", "competent_authority for a trial",
           "ExceptionalReleaseApproved", {**approval, "notified": ["sponsor"], "accepted_failed_tests": ["viability"]},
           QP, journey.at)  # fmt: skip
    ledger.record("ExceptionalReleaseApproved", PRODUCT_ID, {**approval, "accepted_failed_tests": ["viability"]}, QP,
                  journey.at)  # fmt: skip
    assert ledger.product().exceptional_release


def test_a_licensed_products_marketing_authorisation_holder_must_be_notified() -> None:
    licensed = TherapyProduct(uuid4())
    with pytest.raises(InvalidInput) as caught:
        check_notified_parties(licensed, [NotifiedParty.COMPETENT_AUTHORITY])
    assert caught.value.rule == "notified_parties_missing"
    assert "marketing_authorisation_holder for a licensed product" in caught.value.message
    check_notified_parties(licensed, [NotifiedParty.MARKETING_AUTHORISATION_HOLDER])


def qc_version(ledger: FakeLedger) -> int:
    return int(ledger.types(PRODUCT_ID).index("QcResultsRecorded")) + 1


@pytest.mark.parametrize("role", sorted(EVERYONE_IN_THE_CHAIN))
def test_a_qc_result_is_corrected_only_by_a_role_that_may_record_it(ledger: FakeLedger, role: str) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    actor = Actor(f"someone.{role}", f"Someone {role}", role)
    ledger.register_staff(actor)
    correction = {"corrects_version": qc_version(ledger), "reason": "transcription", "corrections": qc(True)}
    if role in allowed("QcResultsRecorded"):
        ledger.record("EventCorrected", PRODUCT_ID, correction, actor, journey.at)
    else:
        refuse(ledger, RuleViolation, "corrector_role_not_allowed", "user", "may not correct a QcResultsRecorded",
               "EventCorrected", correction, actor, journey.at)  # fmt: skip


def test_a_correction_names_only_fields_of_the_corrected_event_with_valid_values(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = qc_version(ledger)
    refuse(ledger, InvalidInput, "unknown_field", "payload.corrections.verdict", "not a field of QcResultsRecorded",
           "EventCorrected", {"corrects_version": version, "reason": "r", "corrections": {"verdict": "ok"}}, QP,
           journey.at)  # fmt: skip
    refuse(ledger, InvalidInput, "too_few_items", "payload.corrections.tests", "at least 1",
           "EventCorrected", {"corrects_version": version, "reason": "r", "corrections": {"tests": []}}, QP,
           journey.at)  # fmt: skip


def test_qc_corrected_out_of_specification_holds_a_released_product_and_a_re_correction_counts(
    ledger: FakeLedger,
) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    version = qc_version(ledger)
    original = [dict(record.payload) for record in ledger.histories[PRODUCT_ID] if record.version == version]
    wrong = {"corrects_version": version, "reason": "viability misread", "corrections": qc(False)}
    ledger.record("EventCorrected", PRODUCT_ID, wrong, QP, journey.at)
    product = ledger.product()
    assert product.qc_in_spec is False and product.quarantined and "viability" in product.quarantine_reason
    refuse(ledger, OutOfOrder, "qc_out_of_spec_needs_exceptional_release", None, "only an exceptional release",
           "QuarantineLifted", LIFT, PHARMACIST, journey.at + timedelta(minutes=1))  # fmt: skip
    correction_version = ledger.product().version
    right = {"corrects_version": correction_version, "reason": "the first reading was right", "corrections": qc(True)}
    ledger.record("EventCorrected", PRODUCT_ID, right, QC_QP, journey.at + timedelta(minutes=2))
    assert ledger.product().qc_in_spec is True
    assert [dict(r.payload) for r in ledger.histories[PRODUCT_ID] if r.version == version] == original


def test_qc_corrected_out_of_specification_before_release_makes_the_product_out_of_spec(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    ledger.record("EventCorrected", PRODUCT_ID,
                  {"corrects_version": qc_version(ledger), "reason": "misread", "corrections": qc(False)}, QP,
                  journey.at)  # fmt: skip
    assert ledger.product().state is ProductState.QC_OUT_OF_SPEC
    refuse(ledger, OutOfOrder, "release_requires_in_spec_qc", None, "qc_out_of_spec",
           "ProductReleased", RELEASE, QP, journey.at)  # fmt: skip


def test_a_courier_cannot_correct_a_qps_qc_result(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    correction = {"corrects_version": qc_version(ledger), "reason": "x", "corrections": qc(False)}
    refuse(ledger, RuleViolation, "corrector_role_not_allowed", "user", "it is corrected by who may record it (qp)",
           "EventCorrected", correction, COURIER, journey.at)  # fmt: skip

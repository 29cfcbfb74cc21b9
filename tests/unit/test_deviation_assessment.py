"""An impact assessment lets a named step through an open major or critical deviation, which stays open and shown."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.errors import CustodyError, InvalidInput, OutOfOrder, ProductOnHold, RuleViolation
from domain.events import Actor
from tests.unit.domain_fixtures import (
    NURSE,
    OTHER_PHYSICIAN,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    QC_QP,
    QP,
    CarTJourney,
    FakeLedger,
    dispense,
)
from tests.unit.pathway_fixtures import ready_ledger

RELEASE = {"certificate_id": "C"}


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def deviate(ledger: FakeLedger, journey: CarTJourney, severity: str = "major") -> int:
    """Record a deviation of that severity and return its version (its id)."""
    payload = {"description": "fill-room pressure alarm", "severity": severity}
    ledger.record("DeviationRecorded", PRODUCT_ID, payload, PHARMACIST, journey.at)
    return len(ledger.histories[PRODUCT_ID])


def assessment(version: int, *steps: str) -> dict[str, Any]:
    return {
        "deviation_version": version,
        "steps": list(steps),
        "assessment": "particle counts and sterility within limits: no impact on the lot",
        "assessment_ref": "IA-2026-014",
    }


def assess(ledger: FakeLedger, journey: CarTJourney, version: int, actor: Actor, *steps: str) -> None:
    ledger.record("DeviationImpactAssessed", PRODUCT_ID, assessment(version, *steps), actor, journey.at)


def refused_assessment(
    ledger: FakeLedger,
    journey: CarTJourney,
    payload: dict[str, Any],
    actor: Actor,
    error: type[CustodyError],
    field: str | None,
    rule: str,
    message: str,
) -> None:
    ledger.refuse(
        error,
        field=field,
        rule=rule,
        message=message,
        event_type="DeviationImpactAssessed",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=actor,
        at=journey.at,
    )


def blocked(ledger: FakeLedger, journey: CarTJourney, step: str, payload: dict[str, Any], actor: Actor) -> str:
    error = ledger.refuse(
        ProductOnHold,
        field=None,
        rule="open_deviation_blocks_step",
        message=f"cannot record {step}",
        event_type=step,
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=actor,
        at=journey.at,
    )
    return str(error.message)


def test_a_qp_assessment_lets_the_release_through_and_the_deviation_stays_open(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    assess(ledger, journey, version, QP, "release")
    ledger.record("ProductReleased", PRODUCT_ID, RELEASE, QP, journey.at)
    product = ledger.product()
    assert product.released
    assert product.open_deviations == {version: "fill-room pressure alarm"}
    assert product.deviation_allowances == {version: {"release": "major"}}


def test_the_refusal_names_both_ways_out_and_who_signs_the_assessment(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey, "critical")
    message = blocked(ledger, journey, "ProductReleased", RELEASE, QP)
    assert f"version {version} (critical): fill-room pressure alarm" in message
    assert (
        "close it with DeviationClosed, or record DeviationImpactAssessed allowing release, signed by a QP" in message
    )


def test_the_clinical_refusal_names_the_treating_physician(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    deviate(ledger, journey)
    message = blocked(ledger, journey, "Infused", journey.infusion(timedelta(minutes=10)), NURSE)
    assert "allowing infusion, signed by the product's treating physician (dr.durand)" in message


def test_an_assessment_allows_only_the_steps_it_names(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("LymphodepletionRecorded")
    version = deviate(ledger, journey)
    assess(ledger, journey, version, PHYSICIAN, "thaw", "infusion")
    blocked(ledger, journey, "Dispensed", dispense(), PHARMACIST)
    assess(ledger, journey, version, PHYSICIAN, "dispense")
    ledger.record("Dispensed", PRODUCT_ID, dispense(), PHARMACIST, journey.at)
    assert ledger.product().state == "dispensed"


def test_the_treating_physician_lets_thaw_and_infusion_through(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    version = deviate(ledger, journey, "critical")
    assess(ledger, journey, version, PHYSICIAN, "thaw", "infusion")
    journey.until("Infused")
    assert ledger.product().state == "infused"
    assert version in ledger.product().open_deviations


def test_each_open_blocking_deviation_needs_its_own_assessment(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    first = deviate(ledger, journey)
    second = deviate(ledger, journey, "critical")
    assess(ledger, journey, first, QP, "release")
    message = blocked(ledger, journey, "ProductReleased", RELEASE, QP)
    assert f"version {second} (critical)" in message and f"version {first} " not in message


def test_a_minor_deviation_reclassified_major_blocks_and_shows_its_new_words(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey, "minor")
    correction = {
        "corrects_version": version,
        "reason": "pressure alarm lasted 40 min, not 40 s",
        "corrections": {"severity": "major", "description": "fill-room pressure alarm of 40 min"},
    }
    ledger.record("EventCorrected", PRODUCT_ID, correction, PHARMACIST, journey.at)
    message = blocked(ledger, journey, "ProductReleased", RELEASE, QP)
    assert f"version {version} (major): fill-room pressure alarm of 40 min" in message


def test_an_assessment_counts_for_the_severity_it_was_made_at(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    assess(ledger, journey, version, QP, "release")
    correction = {"corrects_version": version, "reason": "sterility breach", "corrections": {"severity": "critical"}}
    ledger.record("EventCorrected", PRODUCT_ID, correction, PHARMACIST, journey.at)
    message = blocked(ledger, journey, "ProductReleased", RELEASE, QP)
    assert "assessed for release when it was major, reclassified since" in message
    assess(ledger, journey, version, QP, "release")
    ledger.record("ProductReleased", PRODUCT_ID, RELEASE, QP, journey.at)
    assert ledger.product().released


def test_a_nurse_cannot_sign_an_assessment(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    version = deviate(ledger, journey)
    with pytest.raises(RuleViolation) as caught:
        assess(ledger, journey, version, NURSE, "thaw")
    assert caught.value.field == "user"
    assert "nurse" in caught.value.message


def test_a_physician_cannot_allow_the_release(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    refused_assessment(
        ledger, journey, assessment(version, "release"), PHYSICIAN, RuleViolation, "user",
        "impact_assessment_wrong_role", "allowing release is signed by a QP, not a physician",
    )  # fmt: skip


def test_a_qp_cannot_allow_a_clinical_step(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    refused_assessment(
        ledger, journey, assessment(version, "release", "infusion"), QC_QP, RuleViolation, "user",
        "impact_assessment_wrong_role", "allowing infusion is signed by the product's treating physician (dr.durand)",
    )  # fmt: skip


def test_a_physician_who_is_not_the_treating_one_cannot_allow_the_infusion(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    version = deviate(ledger, journey)
    refused_assessment(
        ledger, journey, assessment(version, "infusion"), OTHER_PHYSICIAN, RuleViolation, "user",
        "impact_assessment_not_treating_physician", "is not this product's treating physician (dr.durand)",
    )  # fmt: skip


def test_an_unknown_deviation_version_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    refused_assessment(
        ledger, journey, assessment(version - 1, "release"), QP, InvalidInput, "payload.deviation_version",
        "impact_assessment_unknown_deviation", f"is not a deviation of this product (deviations: {version})",
    )  # fmt: skip


def test_a_closed_deviation_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    close = {"deviation_version": version, "resolution": "investigated: no impact"}
    ledger.record("DeviationClosed", PRODUCT_ID, close, QP, journey.at)
    refused_assessment(
        ledger, journey, assessment(version, "release"), QP, OutOfOrder, "payload.deviation_version",
        "impact_assessment_closed_deviation", f"payload.deviation_version {version}: that deviation is closed",
    )  # fmt: skip


def test_a_minor_deviation_needs_no_assessment(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey, "minor")
    refused_assessment(
        ledger, journey, assessment(version, "release"), QP, OutOfOrder, "payload.deviation_version",
        "impact_assessment_not_blocking", "that deviation is minor; it is shown but blocks no step",
    )  # fmt: skip


def test_a_step_named_twice_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    version = deviate(ledger, journey)
    refused_assessment(
        ledger, journey, assessment(version, "thaw", "infusion", "thaw"), PHYSICIAN, InvalidInput,
        "payload.steps[2]", "duplicate_step", "names thaw a second time",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"steps": []}, "payload.steps"),
        ({"steps": ["bedside_check"]}, "payload.steps[0]"),
        ({"assessment": ""}, "payload.assessment"),
    ],
)
def test_a_malformed_assessment_is_refused_naming_its_field(
    ledger: FakeLedger, changes: dict[str, Any], field: str
) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey)
    before = len(ledger.histories[PRODUCT_ID])
    with pytest.raises(InvalidInput) as caught:
        assess_payload = {**assessment(version, "release"), **changes}
        ledger.record("DeviationImpactAssessed", PRODUCT_ID, assess_payload, QP, journey.at)
    assert caught.value.field == field
    assert len(ledger.histories[PRODUCT_ID]) == before


def test_no_assessment_after_infusion(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Infused")
    version = deviate(ledger, journey)
    with pytest.raises(RuleViolation) as caught:
        assess(ledger, journey, version, PHYSICIAN, "infusion")
    assert caught.value.rule == "terminal_state"

"""A product on a patient's pathway: collection and infusion pass the pathway, the site and conditioning."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.site import site_id_for
from tests.unit.domain_fixtures import (
    DIN,
    NURSE,
    PHYSICIAN,
    PRODUCT_ID,
    T0,
    CarTJourney,
    FakeLedger,
    enrolment,
    iso,
)
from tests.unit.pathway_fixtures import (
    ADMIN,
    COLLECTION_SITE,
    MEETING,
    PATHWAY_ID,
    accredited_sites,
    register_site,
    walk_pathway,
)


def collection(journey: CarTJourney) -> dict[str, object]:
    """The journey's apheresis payload, a day after enrolment."""
    at = journey.at + timedelta(days=1)
    return {
        "din": DIN,
        "site": COLLECTION_SITE,
        "volume_ml": 250,
        "preservation": "fresh",
        "started_at": iso(at - timedelta(hours=4)),
        "ended_at": iso(at - timedelta(hours=1)),
    }


def refuse_collection(ledger: FakeLedger, error: type, rule: str, message: str, field: str | None = None) -> None:
    journey = CarTJourney(ledger).until("ProductEnrolled")
    ledger.refuse(
        error, field=field, rule=rule, message=message, event_type="ApheresisCollected", aggregate_id=PRODUCT_ID,
        payload=collection(journey), actor=NURSE, at=journey.at + timedelta(days=1),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("until", "outcome", "rule", "message"),
    [
        ("RcpDecisionRecorded", "deferred", "rcp_not_eligible", "no eligible RCP decision (latest: deferred)"),
        ("RcpDecisionRecorded", "not_eligible", "rcp_not_eligible", "latest: not_eligible"),
        ("TreatmentDecisionProposed", "eligible", "treatment_decision_not_cosigned", "not signed by both"),
        ("TreatmentDecisionCosigned", "eligible", "consent_required", "no signed consent"),
    ],
)
def test_enrolment_is_refused_until_the_rcp_the_pair_and_the_consent_all_allow_it(
    until: str, outcome: str, rule: str, message: str
) -> None:
    ledger = FakeLedger()
    accredited_sites(ledger)
    walk_pathway(ledger, until=until, outcome=outcome)
    ledger.refuse(
        OutOfOrder, field=None, rule=rule, message=message, event_type="ProductEnrolled", aggregate_id=PRODUCT_ID,
        payload=enrolment(), actor=PHYSICIAN, at=T0,
    )  # fmt: skip


def test_collection_is_refused_once_the_patient_withdrew_consent_after_enrolment() -> None:
    ledger = FakeLedger()
    accredited_sites(ledger)
    walk_pathway(ledger)
    journey = CarTJourney(ledger).until("ProductEnrolled")
    at = journey.at + timedelta(hours=2)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": at.date().isoformat()}, NURSE, at)
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_withdrawn", message="withdrew consent", event_type="ApheresisCollected",
        aggregate_id=PRODUCT_ID, payload=collection(journey), actor=NURSE, at=journey.at + timedelta(days=1),
    )  # fmt: skip


def test_collection_with_an_eligible_rcp_a_cosigned_decision_and_consent_at_an_accredited_site_is_recorded() -> None:
    ledger = FakeLedger()
    accredited_sites(ledger)
    walk_pathway(ledger)
    CarTJourney(ledger).until("ApheresisCollected")
    assert ledger.product().state == "collected"


def test_a_product_is_not_enrolled_for_an_unregistered_collection_site() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger)
    ledger.refuse(
        NotFound, field="payload.collection_site", rule="site_not_registered", message="is not a registered site",
        event_type="ProductEnrolled", aggregate_id=PRODUCT_ID, payload=enrolment(), actor=PHYSICIAN, at=T0,
    )  # fmt: skip


def test_a_site_accredited_for_infusion_only_cannot_collect() -> None:
    ledger = FakeLedger()
    register_site(ledger, COLLECTION_SITE, ["infusion", "processing"])
    walk_pathway(ledger)
    refuse_collection(
        ledger, RuleViolation, "site_not_accredited", "no accreditation covering collection", field="payload.site"
    )


def test_a_site_whose_accreditation_expired_the_day_before_cannot_collect() -> None:
    ledger = FakeLedger()
    register_site(ledger, COLLECTION_SITE, ["collection"], valid_until=date(2026, 1, 5))
    walk_pathway(ledger)
    refuse_collection(ledger, RuleViolation, "site_not_accredited", "on 2026-01-06", field="payload.site")


def test_a_site_whose_accreditation_was_withdrawn_cannot_collect_from_that_day() -> None:
    ledger = FakeLedger()
    register_site(ledger, COLLECTION_SITE, ["collection"])
    reference = f"JACIE-{len(COLLECTION_SITE)}"
    withdrawal = {"reference": reference, "effective_on": "2026-01-01", "reason": "audit findings"}
    ledger.record("AccreditationWithdrawn", site_id_for(COLLECTION_SITE), withdrawal, ADMIN, MEETING)
    walk_pathway(ledger)
    refuse_collection(ledger, RuleViolation, "site_not_accredited", "collection", field="payload.site")


def ready_for_infusion(ledger: FakeLedger) -> CarTJourney:
    accredited_sites(ledger)
    walk_pathway(ledger)
    return CarTJourney(ledger, conditioned=False).until("BedsideCheckWitnessed")


def lymphodepletion(ended: date) -> dict[str, object]:
    return {
        "agents": [{"name": "fludarabine", "dose": "25 mg/m2/day"}, {"name": "cyclophosphamide", "dose": "250 mg/m2"}],
        "started_on": (ended - timedelta(days=2)).isoformat(),
        "ended_on": ended.isoformat(),
    }


def test_a_car_t_infusion_without_lymphodepletion_is_refused() -> None:
    ledger = FakeLedger()
    journey = ready_for_infusion(ledger)
    ledger.refuse(
        OutOfOrder, field="payload.started_at", rule="lymphodepletion_missing", message="no lymphodepletion",
        event_type="Infused", aggregate_id=PRODUCT_ID, payload=journey.infusion(timedelta(minutes=10)), actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )  # fmt: skip


def test_a_car_t_infusion_20_days_after_lymphodepletion_is_outside_kymriahs_2_to_14_days() -> None:
    ledger = FakeLedger()
    journey = ready_for_infusion(ledger)
    ended = journey.at.date() - timedelta(days=20)
    ledger.record("LymphodepletionRecorded", PATHWAY_ID, lymphodepletion(ended), PHYSICIAN, journey.at)
    ledger.refuse(
        TimeRuleViolation, field="payload.started_at", rule="lymphodepletion_window", message="20 days after",
        event_type="Infused", aggregate_id=PRODUCT_ID, payload=journey.infusion(timedelta(minutes=10)), actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )  # fmt: skip


def test_a_car_t_infusion_3_days_after_lymphodepletion_is_recorded() -> None:
    ledger = FakeLedger()
    journey = ready_for_infusion(ledger)
    ended = journey.at.date() - timedelta(days=3)
    ledger.record("LymphodepletionRecorded", PATHWAY_ID, lymphodepletion(ended), PHYSICIAN, journey.at)
    journey.until("Infused")
    assert ledger.product().state == "infused"


def test_a_physicians_written_override_lets_the_infusion_go_ahead_without_lymphodepletion() -> None:
    ledger = FakeLedger()
    journey = ready_for_infusion(ledger)
    override = {"reason": "lymphopenia below 0.2 G/L from the disease; conditioning judged unnecessary by the RCP"}
    ledger.record("LymphodepletionOverrideRecorded", PRODUCT_ID, override, PHYSICIAN, journey.at)
    journey.until("Infused")
    assert ledger.types(PRODUCT_ID)[-3:] == ["LymphodepletionOverrideRecorded", "Infused", "FollowUpScheduled"]


def test_a_nurse_cannot_override_lymphodepletion() -> None:
    ledger = FakeLedger()
    journey = ready_for_infusion(ledger)
    ledger.refuse(
        RuleViolation, field="user", rule="role_not_allowed", message="recorded by: physician",
        event_type="LymphodepletionOverrideRecorded", aggregate_id=PRODUCT_ID, payload={"reason": "none"},
        actor=NURSE, at=journey.at,
    )  # fmt: skip


def test_an_infusion_is_refused_once_the_patient_withdrew_consent() -> None:
    ledger = FakeLedger()
    journey = ready_for_infusion(ledger)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": journey.at.date().isoformat()}, NURSE, journey.at)
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_withdrawn", message="cannot record Infused", event_type="Infused",
        aggregate_id=PRODUCT_ID, payload=journey.infusion(timedelta(minutes=10)), actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )  # fmt: skip


def test_lymphodepletion_is_refused_for_a_patient_without_a_cosigned_decision() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionProposed")
    at = MEETING + timedelta(days=4)
    ledger.refuse(
        OutOfOrder, field=None, rule="treatment_decision_not_cosigned", message="LymphodepletionRecorded",
        event_type="LymphodepletionRecorded", aggregate_id=PATHWAY_ID, payload=lymphodepletion(at.date()),
        actor=PHYSICIAN, at=at,
    )  # fmt: skip

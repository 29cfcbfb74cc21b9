"""A site's readiness for a trial: attested prerequisites, activation only when all hold, and the steps it gates."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import Actor
from domain.site import site_id_for
from domain.trial_site import trial_site_id_for
from domain.trial_site_readiness import readiness
from tests.unit.domain_fixtures import (
    COLLECTION_SITE,
    INFUSION_UNIT,
    NURSE,
    PHYSICIAN,
    PRODUCT_ID,
    T0,
    TRIAL_FIELDS,
    CarTJourney,
    FakeLedger,
    enrolment,
)
from tests.unit.pathway_fixtures import ADMIN, ready_ledger
from tests.unit.trial_site_fixtures import (
    ACTIVATED,
    ALL_ATTESTED,
    PREPARED,
    PROTOCOL,
    SIGNED_BY,
    SPONSOR,
    UNTIL,
    activate_trial_sites,
    attest,
    evidence,
    open_site,
    register_trial,
    trial_site,
)

OTHER_SPONSOR = Actor("sponsor.other", "Max Other", "sponsor")


def _states(ledger: FakeLedger, target: UUID, day: date) -> dict[str, str]:
    site = trial_site(ledger, target)
    return {check.name: check.state for check in readiness(site, ledger.load, day)}


# -- opening -------------------------------------------------------------------------------------------


def test_a_trial_site_opens_only_for_a_registered_trial_under_the_id_derived_from_protocol_and_site() -> None:
    ledger = ready_ledger()
    payload = {"protocol": PROTOCOL, "site_code": COLLECTION_SITE, "product_kind": "car_t",
               "indications": ["vasculitis"], "activities": ["collection"]}  # fmt: skip
    target = trial_site_id_for(PROTOCOL, COLLECTION_SITE)
    common: dict[str, Any] = {"event_type": "TrialSiteOpened", "payload": payload, "actor": ADMIN, "at": PREPARED}
    ledger.refuse(NotFound, field="payload.protocol", rule="trial_not_registered", message=PROTOCOL,
                  aggregate_id=target, **common)  # fmt: skip
    register_trial(ledger)
    ledger.refuse(InvalidInput, field="aggregate_id", rule="aggregate_id_mismatch", message="derived from both",
                  aggregate_id=uuid4(), **common)  # fmt: skip
    unknown = {**payload, "site_code": "Nowhere"}
    ledger.refuse(NotFound, field="payload.site_code", rule="site_not_registered", message="Nowhere",
                  event_type="TrialSiteOpened", aggregate_id=trial_site_id_for(PROTOCOL, "Nowhere"), payload=unknown,
                  actor=ADMIN, at=PREPARED)  # fmt: skip
    ledger.record("TrialSiteOpened", target, payload, ADMIN, PREPARED)
    assert trial_site(ledger, target).status == "opened"


def test_a_sponsor_signs_only_for_a_trial_that_lists_it() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    ledger.refuse(RuleViolation, field="user", rule="sponsor_not_on_trial", message=OTHER_SPONSOR.user_id,
                  event_type="TrialPrerequisiteAttested", aggregate_id=target, payload=evidence("contract_signed"),
                  actor=OTHER_SPONSOR, at=PREPARED)  # fmt: skip
    ledger.record("TrialPrerequisiteAttested", target, evidence("contract_signed"), SPONSOR, PREPARED)
    assert trial_site(ledger, target).attestations[("contract_signed", "")].signed_by == SPONSOR.user_id


def test_a_clinical_role_signs_no_trial_site_event() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    ledger.refuse(RuleViolation, field="user", rule="role_not_allowed", message="TrialSiteActivated",
                  event_type="TrialSiteActivated", aggregate_id=target, payload={}, actor=PHYSICIAN,
                  at=ACTIVATED)  # fmt: skip


# -- evidence ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prerequisite", "changes", "error", "field", "rule"),
    [
        ("gmo_authorisation", {"gmo_class": None}, InvalidInput, "payload.gmo_class", "gmo_class_required"),
        ("gmo_authorisation", {"gmo_class": 5}, InvalidInput, "payload.gmo_class", "out_of_range"),
        ("gmo_authorisation", {"valid_until": None}, InvalidInput, "payload.valid_until", "valid_until_required"),
        (
            "staff_training",
            {"user_id": NURSE.user_id, "valid_until": None},
            InvalidInput,
            "payload.valid_until",
            "valid_until_required",
        ),
        (
            "contract_signed",
            {"valid_until": "2025-01-01"},
            TimeRuleViolation,
            "payload.valid_until",
            "ends_before_start",
        ),
        ("disease_specialist", {"user_id": None}, InvalidInput, "payload.user_id", "user_required"),
        ("disease_specialist", {"user_id": NURSE.user_id}, RuleViolation, "payload.user_id", "not_a_physician"),
        ("cell_therapy_specialist", {"user_id": "dr.nobody"}, NotFound, "payload.user_id", "staff_not_registered"),
        ("staff_training", {"user_id": "nobody"}, NotFound, "payload.user_id", "staff_not_registered"),
        ("pui_agreement", {"user_id": NURSE.user_id}, InvalidInput, "payload.user_id", "user_not_expected"),
        ("rcp_named", {"prerequisite": "ethics"}, InvalidInput, "payload.prerequisite", "invalid_choice"),
        ("ln2_qualified", {"reference": " "}, InvalidInput, "payload.reference", "empty_text"),
    ],
)
def test_incomplete_evidence_is_refused_by_field(
    prerequisite: str, changes: dict[str, object], error: type[Exception], field: str, rule: str
) -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    payload = {k: v for k, v in {**evidence(prerequisite), **changes}.items() if v is not None}
    with pytest.raises(error) as caught:
        ledger.record("TrialPrerequisiteAttested", target, payload, SIGNED_BY[prerequisite], PREPARED)
    assert (caught.value.field, caught.value.rule) == (field, rule), caught.value  # type: ignore[attr-defined]
    assert ledger.types(target) == ["TrialSiteOpened"]


def test_a_gmo_authorisation_is_for_a_genetically_modified_product_only() -> None:
    ledger = ready_ledger()
    target = open_site(ledger, kind="msc", activities=("infusion",), site=INFUSION_UNIT)
    ledger.refuse(RuleViolation, field="payload.prerequisite", rule="gmo_not_applicable", message="msc",
                  event_type="TrialPrerequisiteAttested", aggregate_id=target, payload=evidence("gmo_authorisation"),
                  actor=ADMIN, at=PREPARED)  # fmt: skip
    attest(ledger, target)
    assert "gmo_authorisation" not in _states(ledger, target, ACTIVATED.date())


def test_a_person_is_designated_once() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    attest(ledger, target)
    ledger.refuse(OutOfOrder, field="payload.user_id", rule="already_designated", message=NURSE.user_id,
                  event_type="TrialStaffDesignated", aggregate_id=target, payload={"user_id": NURSE.user_id},
                  actor=ADMIN, at=PREPARED)  # fmt: skip


# -- activation ----------------------------------------------------------------------------------------


def test_activation_is_refused_naming_every_missing_prerequisite() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    refusal = ledger.refuse(RuleViolation, field="prerequisites.disease_specialist", rule="trial_site_not_ready",
                            message="cannot be activated", event_type="TrialSiteActivated", aggregate_id=target,
                            payload={}, actor=SPONSOR, at=ACTIVATED)  # fmt: skip
    for prerequisite in ALL_ATTESTED:
        assert prerequisite in refusal.message, prerequisite
    assert "accreditation" not in refusal.message  # the registry's JACIE accreditation covers collection


@pytest.mark.parametrize("left_out", ALL_ATTESTED)
def test_activation_is_refused_while_any_one_prerequisite_is_missing(left_out: str) -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    attest(ledger, target, skip=(left_out,))
    refusal = ledger.refuse(RuleViolation, field=f"prerequisites.{left_out}", rule="trial_site_not_ready",
                            message=left_out, event_type="TrialSiteActivated", aggregate_id=target, payload={},
                            actor=SPONSOR, at=ACTIVATED)  # fmt: skip
    assert [name for name in ALL_ATTESTED if name in refusal.message] == [left_out]


def test_activation_needs_a_cell_therapy_accreditation_covering_the_sites_activities_that_day() -> None:
    ledger = ready_ledger()
    target = open_site(ledger, activities=("collection", "infusion"))
    attest(ledger, target)
    ledger.refuse(RuleViolation, field="prerequisites.accreditation", rule="trial_site_not_ready",
                  message="no JACIE or SFGM-TC accreditation covers infusion", event_type="TrialSiteActivated",
                  aggregate_id=target, payload={}, actor=SPONSOR, at=ACTIVATED)  # fmt: skip
    ars = {"accreditor": "ars", "reference": "ARS-1", "scope": ["infusion"], "valid_from": "2025-01-01",
           "valid_until": "2027-12-31"}  # fmt: skip
    ledger.record("AccreditationGranted", site_id_for(COLLECTION_SITE), ars, ADMIN, PREPARED)
    assert _states(ledger, target, ACTIVATED.date())["accreditation"] == "missing"  # a PUI's ARS is not JACIE
    jacie = {**ars, "accreditor": "sfgm_tc", "reference": "SFGM-1"}
    ledger.record("AccreditationGranted", site_id_for(COLLECTION_SITE), jacie, ADMIN, PREPARED)
    ledger.record("TrialSiteActivated", target, {}, SPONSOR, ACTIVATED)
    assert trial_site(ledger, target).status == "active"


def test_a_site_with_every_prerequisite_met_is_activated_once_and_its_checklist_shows_the_evidence() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    attest(ledger, target)
    ledger.record("TrialSiteActivated", target, {"note": "first patient expected in March"}, ADMIN, ACTIVATED)
    checks = readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())
    expected = {"accreditation": "met", **dict.fromkeys(ALL_ATTESTED, "met")}
    assert {check.name: check.state for check in checks} == expected
    gmo = next(check for check in checks if check.name == "gmo_authorisation")
    assert gmo.evidence[0]["gmo_class"] == 2 and gmo.evidence[0]["signed_by"] == ADMIN.user_id
    ledger.refuse(OutOfOrder, field=None, rule="already_active", message="already active",
                  event_type="TrialSiteActivated", aggregate_id=target, payload={}, actor=SPONSOR,
                  at=ACTIVATED)  # fmt: skip


def test_evidence_ending_within_sixty_days_shows_as_expiring_then_missing_the_day_after() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    attest(ledger, target)
    assert _states(ledger, target, UNTIL - timedelta(days=61))["staff_training"] == "met"
    assert _states(ledger, target, UNTIL - timedelta(days=60))["staff_training"] == "expiring"
    assert _states(ledger, target, UNTIL)["gmo_authorisation"] == "expiring"
    after = _states(ledger, target, UNTIL + timedelta(days=1))
    assert after["staff_training"] == after["gmo_authorisation"] == "missing"
    assert after["contract_signed"] == "missing"  # the fixture dates every evidence until UNTIL


# -- the gate: enrolment, collection and infusion for the trial ---------------------------------------


def test_enrolment_in_a_registered_trial_is_refused_at_a_site_never_opened_for_it() -> None:
    ledger = ready_ledger()
    register_trial(ledger)
    ledger.refuse(RuleViolation, field="payload.collection_site", rule="trial_site_not_activated",
                  message="is not opened for trial", event_type="ProductEnrolled", aggregate_id=PRODUCT_ID,
                  payload=enrolment(**TRIAL_FIELDS), actor=PHYSICIAN, at=T0)  # fmt: skip


def test_enrolment_at_a_prepared_but_inactive_site_names_what_is_missing() -> None:
    ledger = ready_ledger()
    attest(ledger, open_site(ledger), skip=("gmo_authorisation",))
    in_trial = enrolment(**TRIAL_FIELDS)
    refusal = ledger.refuse(RuleViolation, field="payload.collection_site", rule="trial_site_not_activated",
                            message="missing gmo_authorisation (not attested)", event_type="ProductEnrolled",
                            aggregate_id=PRODUCT_ID, payload=in_trial, actor=PHYSICIAN, at=T0)  # fmt: skip
    assert "staff_training" not in refusal.message


def test_a_product_naming_a_trial_the_registry_does_not_hold_is_refused_not_waved_through() -> None:
    ledger = ready_ledger()  # LUPUS-CAR-01 is not registered: a typo in a protocol must not switch its rules off
    ledger.refuse(NotFound, field="payload.trial_protocol", rule="trial_not_registered", message="not a registered",
                  event_type="ProductEnrolled", aggregate_id=PRODUCT_ID, payload=enrolment(**TRIAL_FIELDS),
                  actor=PHYSICIAN, at=T0)  # fmt: skip


def test_a_product_outside_any_trial_is_not_held_by_trial_sites() -> None:
    ledger = ready_ledger()
    ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(), PHYSICIAN, T0)
    assert not ledger.product().trial


def test_a_whole_journey_runs_at_active_sites() -> None:
    ledger = ready_ledger()
    activate_trial_sites(ledger)
    CarTJourney(ledger, trial=True).until("Infused")
    assert ledger.product().state == "infused"


def test_collection_is_refused_once_the_collection_site_is_suspended() -> None:
    ledger = ready_ledger()
    activate_trial_sites(ledger)
    journey = CarTJourney(ledger, trial=True).until("ProductEnrolled")
    target = trial_site_id_for(PROTOCOL, COLLECTION_SITE)
    ledger.record("TrialSiteSuspended", target, {"reason": "monitoring finding"}, SPONSOR, T0 + timedelta(hours=2))
    with pytest.raises(RuleViolation) as caught:
        journey.until("ApheresisCollected")
    assert (caught.value.rule, caught.value.field) == ("trial_site_not_activated", "payload.site")
    assert "suspended" in caught.value.message
    assert ledger.types(PRODUCT_ID) == ["ProductEnrolled"]


def test_infusion_is_refused_when_a_team_members_training_lapsed_before_the_day() -> None:
    ledger = ready_ledger()
    activate_trial_sites(ledger)
    target = trial_site_id_for(PROTOCOL, INFUSION_UNIT)
    lapsing = evidence("staff_training", user_id=NURSE.user_id, valid_until=(T0 + timedelta(days=5)).date().isoformat())
    ledger.record("TrialPrerequisiteAttested", target, lapsing, ADMIN, T0)
    journey = CarTJourney(ledger, trial=True, acknowledges=("trial_site_not_ready",))
    with pytest.raises(RuleViolation) as caught:
        journey.until("Infused")
    assert caught.value.rule == "trial_site_not_ready" and caught.value.field == "payload.site"
    assert "staff_training (not trained on the protocol on" in caught.value.message
    assert NURSE.user_id in caught.value.message
    assert "Infused" not in ledger.types(PRODUCT_ID)


def test_a_closed_site_takes_no_attestation_and_no_step() -> None:
    ledger = ready_ledger()
    activate_trial_sites(ledger)
    target = trial_site_id_for(PROTOCOL, COLLECTION_SITE)
    ledger.record("TrialSiteClosed", target, {"reason": "recruitment complete"}, ADMIN, ACTIVATED)
    ledger.refuse(OutOfOrder, field=None, rule="trial_site_closed", message="is closed",
                  event_type="TrialPrerequisiteAttested", aggregate_id=target, payload=evidence("rcp_named"),
                  actor=PHYSICIAN, at=ACTIVATED)  # fmt: skip
    in_trial = enrolment(**TRIAL_FIELDS)
    ledger.refuse(RuleViolation, field="payload.collection_site", rule="trial_site_not_activated", message="closed",
                  event_type="ProductEnrolled", aggregate_id=PRODUCT_ID, payload=in_trial, actor=PHYSICIAN,
                  at=T0)  # fmt: skip


def test_only_an_active_site_is_suspended() -> None:
    ledger = ready_ledger()
    target = open_site(ledger)
    ledger.refuse(OutOfOrder, field=None, rule="trial_site_not_active", message="not active",
                  event_type="TrialSiteSuspended", aggregate_id=target, payload={"reason": "audit"}, actor=SPONSOR,
                  at=ACTIVATED)  # fmt: skip

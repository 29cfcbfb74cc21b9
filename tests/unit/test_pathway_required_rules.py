"""Every product belongs to a pathway whose co-signed decision names it; sites and people are the registered ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.errors import NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.pathway import pathway_id_for
from domain.site import site_id_for
from tests.unit.domain_fixtures import (
    COLLECTION_SITE,
    DIN,
    NURSE,
    PHARMACIST,
    PHARMACY,
    PHYSICIAN,
    PRODUCT_ID,
    SITES,
    T0,
    CarTJourney,
    FakeLedger,
    dispense,
    enrolment,
    iso,
    storage,
)
from tests.unit.pathway_fixtures import (
    ADMIN,
    DISEASE_SPECIALIST,
    MEETING,
    PATHWAY_ID,
    ready_ledger,
    register_site,
    walk_pathway,
)
from tests.unit.pathway_fixtures import enrolment as pathway_enrolment


def refuse_enrolment(
    ledger: FakeLedger, error: type, field: str | None, rule: str, message: str, **changes: Any
) -> None:
    ledger.refuse(
        error, field=field, rule=rule, message=message, event_type="ProductEnrolled", aggregate_id=PRODUCT_ID,
        payload=enrolment(**changes), actor=PHYSICIAN, at=T0,
    )  # fmt: skip


def test_a_pseudonym_with_no_pathway_is_not_enrolled() -> None:
    refuse_enrolment(
        ready_ledger(), OutOfOrder, "payload.patient_pseudonym", "pathway_required", "no care pathway for patient",
        patient_pseudonym="PSN-7F3X",
    )  # fmt: skip


def test_a_site_declaring_its_pathway_managed_elsewhere_lets_a_product_in_and_the_product_says_so() -> None:
    ledger = ready_ledger()
    setting = {"reason": "patients selected by the regional RCP of CHU Grenoble"}
    ledger.record(
        "PathwayManagedElsewhereDeclared", site_id_for(COLLECTION_SITE), setting, ADMIN, T0 - timedelta(days=1)
    )
    events = ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(patient_pseudonym="PSN-ELSEWHERE"), PHYSICIAN, T0)
    assert [event.type for event in events] == ["ProductEnrolled", "PathwayManagedElsewhereApplied"]
    assert ledger.product().pathway_managed_elsewhere == f"{COLLECTION_SITE}: {setting['reason']}"


def test_once_the_setting_is_revoked_a_product_without_a_pathway_is_refused_again() -> None:
    ledger = ready_ledger()
    site = site_id_for(COLLECTION_SITE)
    ledger.record("PathwayManagedElsewhereDeclared", site, {"reason": "regional RCP"}, ADMIN, T0 - timedelta(days=2))
    ledger.record(
        "PathwayManagedElsewhereRevoked", site, {"reason": "pathways now kept here"}, ADMIN, T0 - timedelta(days=1)
    )
    refuse_enrolment(
        ledger, OutOfOrder, "payload.patient_pseudonym", "pathway_required", "no care pathway",
        patient_pseudonym="PSN-ELSEWHERE",
    )  # fmt: skip


def test_only_an_administrator_declares_a_pathway_managed_elsewhere() -> None:
    ledger = ready_ledger()
    ledger.refuse(
        RuleViolation, field="user", rule="role_not_allowed", message="may not record",
        event_type="PathwayManagedElsewhereDeclared", aggregate_id=site_id_for(COLLECTION_SITE),
        payload={"reason": "convenient"}, actor=PHYSICIAN, at=T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product_code", "ACADEMIC-CD19"),
        ("indication", "systemic_sclerosis"),
    ],
)
def test_enrolment_must_name_the_product_and_indication_of_the_cosigned_decision(field: str, value: str) -> None:
    refuse_enrolment(
        ready_ledger(), RuleViolation, f"payload.{field}", "enrolment_does_not_match_decision",
        "co-signed treatment decision", **{field: value},
    )  # fmt: skip


def test_enrolment_must_be_of_the_decided_therapy_kind() -> None:
    ledger = ready_ledger()
    refuse_enrolment(
        ledger, RuleViolation, "payload.product_kind", "enrolment_does_not_match_decision", "names ('msc')",
        patient_pseudonym="PSN-00002M", product_kind="car_t", product_code="KYMRIAH",
    )  # fmt: skip


def test_the_treating_physician_must_be_a_registered_staff_member() -> None:
    refuse_enrolment(
        ready_ledger(), NotFound, "payload.treating_physician", "staff_not_registered", "not a registered staff",
        treating_physician="Dr Anne Durand",
    )  # fmt: skip


def test_the_treating_physician_must_be_a_physician() -> None:
    refuse_enrolment(
        ready_ledger(), RuleViolation, "payload.treating_physician", "not_a_physician", "registered as nurse",
        treating_physician=NURSE.user_id,
    )  # fmt: skip


def test_an_rcp_decision_older_than_92_days_does_not_enrol_a_product() -> None:
    ledger = ready_ledger()
    late = MEETING + timedelta(days=93)
    ledger.refuse(
        TimeRuleViolation, field="occurred_at", rule="rcp_decision_expired", message="counts for 92 days",
        event_type="ProductEnrolled", aggregate_id=PRODUCT_ID, payload=enrolment(), actor=PHYSICIAN, at=late,
    )  # fmt: skip


def test_an_rcp_decision_92_days_old_still_enrols_a_product() -> None:
    ledger = ready_ledger()
    ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(), PHYSICIAN, MEETING + timedelta(days=92))
    assert ledger.product().state == "enrolled"


def test_an_rcp_decision_that_expired_before_the_collection_does_not_collect() -> None:
    ledger = ready_ledger()
    ledger.record("ProductEnrolled", PRODUCT_ID, enrolment(), PHYSICIAN, MEETING + timedelta(days=90))
    started = MEETING + timedelta(days=93)
    payload = {
        "din": DIN, "site": COLLECTION_SITE, "volume_ml": 250, "preservation": "fresh",
        "started_at": iso(started), "ended_at": iso(started + timedelta(hours=3)),
    }  # fmt: skip
    ledger.refuse(
        TimeRuleViolation, field="payload.started_at", rule="rcp_decision_expired", message="present the patient",
        event_type="ApheresisCollected", aggregate_id=PRODUCT_ID, payload=payload, actor=NURSE,
        at=started + timedelta(hours=4),
    )  # fmt: skip


def test_the_pair_cannot_contain_a_nurse() -> None:
    ledger = FakeLedger()
    nurse = {"user_id": NURSE.user_id, "name": NURSE.name}
    ledger.refuse(
        RuleViolation, field="payload.cell_therapy_specialist.user_id", rule="not_a_physician",
        message="not as a physician", event_type="PatientEnrolled", aggregate_id=PATHWAY_ID,
        payload=pathway_enrolment(cell_therapy_specialist=nurse), actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip


def test_the_pair_is_named_as_their_staff_records_say() -> None:
    ledger = FakeLedger()
    misnamed = {"user_id": DISEASE_SPECIALIST.user_id, "name": "Dr H. Lefevre"}
    ledger.refuse(
        RuleViolation, field="payload.disease_specialist.name", rule="staff_name_mismatch",
        message="not how dr.lefevre is registered", event_type="PatientEnrolled", aggregate_id=PATHWAY_ID,
        payload=pathway_enrolment(disease_specialist=misnamed), actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip


def test_a_pair_member_who_is_not_registered_is_refused() -> None:
    ledger = FakeLedger()
    stranger = {"user_id": "dr.nobody", "name": "Dr Nobody"}
    ledger.refuse(
        NotFound, field="payload.cell_therapy_specialist.user_id", rule="staff_not_registered",
        message="not a registered staff member", event_type="PatientEnrolled", aggregate_id=PATHWAY_ID,
        payload=pathway_enrolment(cell_therapy_specialist=stranger), actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip


@pytest.mark.parametrize("step", ["Dispensed", "ShipmentDispatched", "ManufacturingStarted"])
def test_after_consent_withdrawal_no_step_consumes_or_commits_the_product(step: str) -> None:
    ledger = ready_ledger()
    last = {"Dispensed": "StoredInLN2", "ShipmentDispatched": "ApheresisCollected"}.get(step, "ReceivedAtManufacturer")
    journey = CarTJourney(ledger).until(last)
    at = journey.at + timedelta(hours=1)
    ledger.record(
        "ConsentWithdrawn", pathway_id_for(journey.patient), {"withdrawn_on": at.date().isoformat()}, NURSE, at
    )
    before = ledger.histories[PRODUCT_ID][:]
    with pytest.raises(OutOfOrder) as refused:
        journey.until({"ShipmentDispatched": "ToManufacturer"}.get(step, step))
    assert refused.value.rule == "consent_withdrawn"
    assert ledger.histories[PRODUCT_ID] == before


def test_after_consent_withdrawal_the_product_may_still_be_stored_safely() -> None:
    ledger = ready_ledger()
    journey = CarTJourney(ledger).until("StoredInLN2")
    at = journey.at + timedelta(hours=1)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": at.date().isoformat()}, NURSE, at)
    ledger.record("StoredInLN2", PRODUCT_ID, storage(), PHARMACIST, at + timedelta(hours=1))
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_withdrawn", message="on hold (consent withdrawn)",
        event_type="Dispensed", aggregate_id=PRODUCT_ID, payload=dispense(), actor=PHARMACIST,
        at=at + timedelta(hours=2),
    )  # fmt: skip


def test_a_shipment_to_an_unregistered_site_is_refused() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger)
    register_site(ledger, COLLECTION_SITE, ["collection"])
    journey = CarTJourney(ledger)
    with pytest.raises(NotFound) as refused:
        journey.until("ToManufacturer")
    assert (refused.value.field, refused.value.rule) == ("payload.to_site", "site_not_registered")


def test_storage_is_refused_at_a_pharmacy_without_a_storage_authorisation() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger)
    for code, scope in SITES.items():
        register_site(ledger, code, ["infusion"] if code == PHARMACY else scope)
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    ledger.refuse(
        RuleViolation, field="payload.site", rule="site_not_accredited", message="covering storage",
        event_type="StoredInLN2", aggregate_id=PRODUCT_ID, payload=storage(), actor=PHARMACIST,
        at=journey.at + timedelta(hours=1),
    )  # fmt: skip

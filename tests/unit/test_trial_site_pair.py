"""The named pair's specialties: a specialist of each of the site's indications, and a cell-therapy specialist."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.errors import RuleViolation
from domain.events import Actor
from domain.indication_specialties import CELL_THERAPY_SPECIALTIES, TREATED_BY, uncovered
from domain.product_events import Indication
from domain.staff_qualification import Specialty
from domain.trial_site_readiness import readiness
from tests.unit.domain_fixtures import DISEASE_SPECIALIST, OTHER_PHYSICIAN, PHYSICIAN, FakeLedger
from tests.unit.pathway_fixtures import ADMIN, ready_ledger
from tests.unit.trial_site_fixtures import (
    ACTIVATED,
    PREPARED,
    SPONSOR,
    accepted_before_the_rules,
    attest,
    evidence,
    open_site,
    record_specialty,
    trial_site,
)

TREATS = {
    "systemic_lupus_erythematosus": {"rheumatology", "internal_medicine", "nephrology"},
    "systemic_sclerosis": {"rheumatology", "internal_medicine", "dermatology"},
    "inflammatory_myopathy": {"rheumatology", "internal_medicine", "neurology"},
    "vasculitis": {"rheumatology", "internal_medicine", "nephrology"},
    "other": {"rheumatology", "internal_medicine", "nephrology", "dermatology", "neurology"},
}
"""The oracle, by hand: the specialties that treat each indication."""
SPECIALTIES = ("rheumatology", "internal_medicine", "nephrology", "dermatology", "neurology", "haematology",
               "oncology", "paediatrics")  # fmt: skip


@pytest.mark.parametrize("specialty", SPECIALTIES)
@pytest.mark.parametrize("indication", sorted(TREATS))
def test_each_indication_is_covered_exactly_by_the_specialties_that_treat_it(indication: str, specialty: str) -> None:
    expected = [] if specialty in TREATS[indication] else [indication]
    assert uncovered([indication], [specialty]) == expected


def test_every_indication_has_its_specialties_and_each_is_one_a_staff_record_can_hold() -> None:
    assert set(TREATED_BY) == set(Indication)
    recordable = {s.value for s in Specialty}
    assert all(specialties <= recordable for specialties in TREATED_BY.values())
    assert "haematology" in CELL_THERAPY_SPECIALTIES & recordable


def _site(ledger: FakeLedger, *indications: str) -> UUID:
    return open_site(ledger, indications=indications or ("systemic_lupus_erythematosus",))


def _name(ledger: FakeLedger, target: UUID, prerequisite: str, person: Actor, signer: Actor = ADMIN) -> None:
    ledger.record("TrialPrerequisiteAttested", target, evidence(prerequisite, user_id=person.user_id), signer,
                  PREPARED)  # fmt: skip


@pytest.mark.parametrize(
    ("indications", "specialties", "message"),
    [
        (
            ("systemic_lupus_erythematosus",),
            ("dermatology",),
            "is recorded with dermatology; systemic_lupus_erythematosus needs internal_medicine, nephrology, "
            "rheumatology",
        ),
        ((), (), "is recorded with no specialty; systemic_lupus_erythematosus needs"),
        (
            ("systemic_lupus_erythematosus", "systemic_sclerosis", "vasculitis"),
            ("nephrology",),
            "is recorded with nephrology; systemic_sclerosis needs dermatology, internal_medicine, rheumatology",
        ),
        (("inflammatory_myopathy",), ("haematology",), "inflammatory_myopathy needs internal_medicine, neurology"),
    ],
)
def test_a_disease_specialist_who_does_not_treat_every_indication_of_the_site_is_refused(
    indications: tuple[str, ...], specialties: tuple[str, ...], message: str
) -> None:
    ledger = ready_ledger()
    target = _site(ledger, *indications)
    if specialties:
        record_specialty(ledger, OTHER_PHYSICIAN, *specialties)
    refusal = ledger.refuse(RuleViolation, field="payload.user_id", rule="specialty_not_for_indication",
                            message=message, event_type="TrialPrerequisiteAttested", aggregate_id=target,
                            payload=evidence("disease_specialist", user_id=OTHER_PHYSICIAN.user_id), actor=ADMIN,
                            at=PREPARED)  # fmt: skip
    assert f"{OTHER_PHYSICIAN.user_id} ({OTHER_PHYSICIAN.name})" in refusal.message
    if len(indications) == 3:  # only the indication left uncovered is named
        assert "vasculitis" not in refusal.message.split(";", 1)[1]


def test_a_disease_specialist_treating_every_indication_is_named_and_shown_with_the_check() -> None:
    ledger = ready_ledger()
    target = _site(ledger, "systemic_lupus_erythematosus", "systemic_sclerosis")
    record_specialty(ledger, OTHER_PHYSICIAN, "nephrology", "dermatology")  # lupus by one, sclerosis by the other
    _name(ledger, target, "disease_specialist", OTHER_PHYSICIAN)
    check = next(c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())
                 if c.name == "disease_specialist")  # fmt: skip
    assert check.state == "met"
    assert check.to_dict()["specialty"] == {
        "user_id": OTHER_PHYSICIAN.user_id,
        "name": OTHER_PHYSICIAN.name,
        "specialties": ["dermatology", "nephrology"],
        "holds": True,
        "detail": f"{OTHER_PHYSICIAN.user_id} ({OTHER_PHYSICIAN.name}): dermatology, nephrology, treats "
        "systemic_lupus_erythematosus, systemic_sclerosis",
    }


@pytest.mark.parametrize(("specialties", "accepted"), [(("internal_medicine",), False), (("haematology",), True),
                                                        (("oncology", "rheumatology"), False)])  # fmt: skip
def test_the_cell_therapy_specialist_is_a_haematologist_or_a_cell_therapist(
    specialties: tuple[str, ...], accepted: bool
) -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    record_specialty(ledger, OTHER_PHYSICIAN, *specialties)
    payload = evidence("cell_therapy_specialist", user_id=OTHER_PHYSICIAN.user_id)
    if accepted:
        ledger.record("TrialPrerequisiteAttested", target, payload, PHYSICIAN, PREPARED)
        assert (
            trial_site(ledger, target).attestations[("cell_therapy_specialist", "")].user_id == OTHER_PHYSICIAN.user_id
        )
        return
    ledger.refuse(RuleViolation, field="payload.user_id", rule="not_a_cell_therapy_specialist",
                  message=f"is recorded with {', '.join(sorted(specialties))}; a cell-therapy specialist is in "
                  "cell_therapy or haematology", event_type="TrialPrerequisiteAttested", aggregate_id=target,
                  payload=payload, actor=PHYSICIAN, at=PREPARED)  # fmt: skip


def test_a_pair_named_before_their_specialties_were_recorded_is_missing_until_they_are() -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    attest(ledger, target, skip=("disease_specialist",))
    payload = evidence("disease_specialist", user_id=OTHER_PHYSICIAN.user_id)
    accepted_before_the_rules(ledger, target, payload, ADMIN)  # before the specialty rule
    checks = {c.name: c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())}
    assert checks["disease_specialist"].state == "missing"
    assert checks["disease_specialist"].detail == (
        f"{OTHER_PHYSICIAN.user_id} ({OTHER_PHYSICIAN.name}) is recorded with no specialty; "
        "systemic_lupus_erythematosus needs internal_medicine, nephrology, rheumatology"
    )
    assert checks["disease_specialist"].to_dict()["specialty"]["holds"] is False
    ledger.refuse(RuleViolation, field="prerequisites.disease_specialist", rule="trial_site_not_ready",
                  message="disease_specialist (dr.blanc (Dr Rose Blanc) is recorded with no specialty",
                  event_type="TrialSiteActivated", aggregate_id=target, payload={}, actor=SPONSOR,
                  at=ACTIVATED)  # fmt: skip
    record_specialty(ledger, OTHER_PHYSICIAN, "rheumatology")
    ledger.record("TrialSiteActivated", target, {}, SPONSOR, ACTIVATED)
    assert trial_site(ledger, target).status == "active"


def test_the_cell_therapy_half_is_checked_against_the_record_of_the_day_too() -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    attest(ledger, target)
    check = next(c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())
                 if c.name == "cell_therapy_specialist")  # fmt: skip
    assert (check.state, check.detail) == ("met", "attested until 2027-06-30")
    assert check.specialty is not None
    assert check.specialty.detail == f"{PHYSICIAN.user_id} ({PHYSICIAN.name}): haematology, gives cell therapy"
    assert DISEASE_SPECIALIST.user_id in {c.specialty.user_id for c in readiness(
        trial_site(ledger, target), ledger.load, ACTIVATED.date()) if c.specialty}  # fmt: skip

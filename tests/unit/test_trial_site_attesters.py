"""Who may attest each trial-site prerequisite: pinned by hand, enforced at signing and again in readiness."""

from __future__ import annotations

from uuid import UUID

import pytest

from domain.errors import RuleViolation
from domain.events import Actor
from domain.trial_site_readiness import readiness
from tests.unit.domain_fixtures import COURIER, LEDGER_ACTOR, NURSE, PHARMACIST, PHYSICIAN, QP, FakeLedger
from tests.unit.pathway_fixtures import ADMIN, ready_ledger
from tests.unit.trial_site_fixtures import (
    ACTIVATED,
    PREPARED,
    SPONSOR,
    accepted_before_the_rules,
    attest,
    evidence,
    open_site,
    pair_specialties,
    trial_site,
)

AUDITOR = Actor("auditor.blanc", "Eve Blanc", "auditor")
ACTORS = {
    "nurse": NURSE, "physician": PHYSICIAN, "pharmacist": PHARMACIST, "qp": QP, "courier": COURIER,
    "sponsor": SPONSOR, "auditor": AUDITOR, "admin": ADMIN, "system": LEDGER_ACTOR,
}  # fmt: skip
MAY_ATTEST = {
    "disease_specialist": {"physician", "admin"},
    "cell_therapy_specialist": {"physician", "admin"},
    "pui_agreement": {"pharmacist"},
    "gmo_authorisation": {"admin"},
    "contract_signed": {"admin", "sponsor"},
    "initiation_visit": {"sponsor"},
    "staff_training": {"admin", "physician"},
    "rcp_named": {"physician"},
    "ln2_qualified": {"pharmacist", "qp"},
}
"""The oracle, written by hand from what a GMP inspector expects: who can vouch for each prerequisite."""
SIGN_NO_ATTESTATION = {"nurse", "courier", "auditor", "system"}
"""Roles that vouch for no prerequisite, so may not sign the event at all (the ledger itself included)."""


def _attestation(prerequisite: str) -> dict[str, object]:
    return evidence(prerequisite, user_id=NURSE.user_id) if prerequisite == "staff_training" else evidence(prerequisite)


def _site(ledger: FakeLedger) -> UUID:
    target = open_site(ledger)
    pair_specialties(ledger)
    return target


@pytest.mark.parametrize("role", sorted(ACTORS))
@pytest.mark.parametrize("prerequisite", sorted(MAY_ATTEST))
def test_each_prerequisite_is_attested_only_by_the_roles_that_can_vouch_for_it(prerequisite: str, role: str) -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    payload, actor = _attestation(prerequisite), ACTORS[role]
    if role in MAY_ATTEST[prerequisite]:
        ledger.record("TrialPrerequisiteAttested", target, payload, actor, PREPARED)
        signed = [a for (name, _), a in trial_site(ledger, target).attestations.items() if name == prerequisite]
        assert [(a.signed_by, a.signer_name, a.signer_role) for a in signed] == [(actor.user_id, actor.name, role)]
        return
    rule = "role_not_allowed" if role in SIGN_NO_ATTESTATION else "attester_role_not_allowed"
    ledger.refuse(RuleViolation, field="user", rule=rule, message=role, event_type="TrialPrerequisiteAttested",
                  aggregate_id=target, payload=payload, actor=actor, at=PREPARED)  # fmt: skip


@pytest.mark.parametrize(
    ("prerequisite", "actor", "who_may"),
    [
        ("pui_agreement", ADMIN, "pui_agreement is attested by pharmacist, not by admin"),
        ("initiation_visit", ADMIN, "initiation_visit is attested by sponsor, not by admin"),
        ("gmo_authorisation", SPONSOR, "gmo_authorisation is attested by admin, not by sponsor"),
        ("rcp_named", PHARMACIST, "rcp_named is attested by physician, not by pharmacist"),
        ("ln2_qualified", PHYSICIAN, "ln2_qualified is attested by pharmacist or qp, not by physician"),
        ("contract_signed", QP, "contract_signed is attested by admin or sponsor, not by qp"),
    ],
)
def test_the_refusal_names_who_may_attest_and_why(prerequisite: str, actor: Actor, who_may: str) -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    refusal = ledger.refuse(RuleViolation, field="user", rule="attester_role_not_allowed", message=who_may,
                            event_type="TrialPrerequisiteAttested", aggregate_id=target,
                            payload=_attestation(prerequisite), actor=actor, at=PREPARED)  # fmt: skip
    assert ": " in refusal.message.split(who_may, 1)[1]  # followed by the reason


def test_evidence_signed_by_a_role_that_cannot_vouch_for_it_never_makes_the_site_ready() -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    attest(ledger, target, skip=("pui_agreement",))
    accepted_before_the_rules(ledger, target, _attestation("pui_agreement"), LEDGER_ACTOR)
    checks = {c.name: c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())}
    assert checks["pui_agreement"].state == "missing"
    assert checks["pui_agreement"].detail == (
        "attestation signed by ledger (system), but pui_agreement is attested by pharmacist"
    )
    assert checks["pui_agreement"].evidence[0]["signed_by_role"] == "system"
    assert [name for name, check in checks.items() if not check.ready] == ["pui_agreement"]
    ledger.refuse(RuleViolation, field="prerequisites.pui_agreement", rule="trial_site_not_ready",
                  message="pui_agreement (attestation signed by ledger (system)", event_type="TrialSiteActivated",
                  aggregate_id=target, payload={}, actor=SPONSOR, at=ACTIVATED)  # fmt: skip
    ledger.record("TrialPrerequisiteAttested", target, _attestation("pui_agreement"), PHARMACIST, ACTIVATED)
    assert next(c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())
                if c.name == "pui_agreement").state == "met"  # fmt: skip


def test_a_training_signed_by_a_role_that_cannot_vouch_for_it_leaves_that_person_untrained() -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    attest(ledger, target)
    accepted_before_the_rules(ledger, target, _attestation("staff_training"), SPONSOR)
    training = next(c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())
                    if c.name == "staff_training")  # fmt: skip
    assert training.state == "missing"
    assert training.detail == (
        f"{NURSE.user_id}'s attestation signed by {SPONSOR.user_id} (sponsor), but staff_training is attested by "
        "admin or physician"
    )


def test_the_checklist_names_who_signed_each_attestation_and_their_role() -> None:
    ledger = ready_ledger()
    target = _site(ledger)
    attest(ledger, target)
    checks = {c.name: c for c in readiness(trial_site(ledger, target), ledger.load, ACTIVATED.date())}
    signers = {name: (c.evidence[0]["signed_by_name"], c.evidence[0]["signed_by_role"])
               for name, c in checks.items() if name != "accreditation"}  # fmt: skip
    assert signers == {
        "disease_specialist": ("Dr Anne Durand", "physician"),
        "cell_therapy_specialist": ("Administrator", "admin"),
        "pui_agreement": ("Marc Petit", "pharmacist"),
        "gmo_authorisation": ("Administrator", "admin"),
        "contract_signed": ("Sophie Lambert", "sponsor"),
        "initiation_visit": ("Sophie Lambert", "sponsor"),
        "staff_training": ("Dr Anne Durand", "physician"),
        "rcp_named": ("Dr Anne Durand", "physician"),
        "ln2_qualified": ("Julie Moreau", "qp"),
    }

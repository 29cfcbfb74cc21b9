"""The care pathway: enrolment with the pair, the RCP's selection on a recent evaluation, the pair's two signatures."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import Context, Meaning
from domain.pathway_policy import PathwayPolicy
from domain.registry import decide
from tests.unit.domain_fixtures import NURSE, PATIENT, FakeLedger
from tests.unit.pathway_fixtures import (
    CELL_THERAPY_SPECIALIST,
    DISEASE_SPECIALIST,
    MEETING,
    OTHER_PHYSICIAN,
    PATHWAY_ID,
    consent,
    enrolment,
    pathway,
    proposal,
    rcp,
    walk_pathway,
)


def test_a_patient_enters_the_pathway_under_the_pseudonym_with_the_named_pair() -> None:
    ledger = FakeLedger()
    pathway = walk_pathway(ledger, until="PatientEnrolled")
    assert pathway.pseudonym == PATIENT and pathway.diagnosis == "systemic_lupus_erythematosus"
    assert pathway.pair == {
        DISEASE_SPECIALIST.user_id: DISEASE_SPECIALIST.name,
        CELL_THERAPY_SPECIALIST.user_id: CELL_THERAPY_SPECIALIST.name,
    }


def test_a_pathway_id_not_derived_from_the_pseudonym_is_refused() -> None:
    FakeLedger().refuse(
        InvalidInput, field="aggregate_id", rule="aggregate_id_mismatch", message="derived from the pseudonym",
        event_type="PatientEnrolled", aggregate_id=uuid4(), payload=enrolment(), actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip


def test_one_person_cannot_be_both_members_of_the_pair() -> None:
    same = {"user_id": DISEASE_SPECIALIST.user_id, "name": DISEASE_SPECIALIST.name}
    FakeLedger().refuse(
        RuleViolation, field="payload.cell_therapy_specialist.user_id", rule="pair_not_distinct",
        message="two different people", event_type="PatientEnrolled", aggregate_id=PATHWAY_ID,
        payload=enrolment(cell_therapy_specialist=same), actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip


def test_an_rcp_decision_on_an_evaluation_93_days_older_than_the_meeting_is_refused_and_stores_nothing() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    old = MEETING.date() - timedelta(days=93)
    error = ledger.refuse(
        TimeRuleViolation, field="payload.evaluations[1].performed_on", rule="evaluation_too_old",
        message="93 days older than the meeting", event_type="RcpDecisionRecorded", aggregate_id=PATHWAY_ID,
        payload=rcp(paraclinical=old), actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip
    assert "at most 92 days" in error.message


def test_an_evaluation_exactly_92_days_before_the_meeting_is_still_recent_enough() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    ledger.record("RcpDecisionRecorded", PATHWAY_ID, rcp(clinical=MEETING.date() - timedelta(days=92)),
                  DISEASE_SPECIALIST, MEETING)  # fmt: skip
    assert ledger.types(PATHWAY_ID)[-1] == "RcpDecisionRecorded"


def test_a_site_configured_for_30_days_refuses_an_evaluation_31_days_old() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    ctx = Context(
        actor=DISEASE_SPECIALIST, occurred_at=MEETING, now=MEETING + timedelta(minutes=1), meaning=Meaning.RECORDED,
        pathway=PathwayPolicy(evaluation_max_age_days=30),
    )  # fmt: skip
    payload = rcp(clinical=MEETING.date() - timedelta(days=31))
    with pytest.raises(TimeRuleViolation) as caught:
        decide("RcpDecisionRecorded", PATHWAY_ID, payload, ctx, ledger.load)
    assert caught.value.rule == "evaluation_too_old" and "at most 30 days" in caught.value.message


def test_an_rcp_decision_without_a_paraclinical_evaluation_is_refused() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    payload = rcp()
    payload["evaluations"][1]["kind"] = "clinical"
    ledger.refuse(
        InvalidInput, field="payload.evaluations", rule="evaluation_missing", message="no paraclinical evaluation",
        event_type="RcpDecisionRecorded", aggregate_id=PATHWAY_ID, payload=payload, actor=DISEASE_SPECIALIST,
        at=MEETING,
    )  # fmt: skip


def test_an_evaluation_dated_after_the_meeting_is_refused() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    ledger.refuse(
        TimeRuleViolation, field="payload.evaluations[0].performed_on", rule="evaluation_after_meeting",
        message="after the meeting", event_type="RcpDecisionRecorded", aggregate_id=PATHWAY_ID,
        payload=rcp(clinical=MEETING.date() + timedelta(days=1)), actor=DISEASE_SPECIALIST,
        at=MEETING + timedelta(days=2),
    )  # fmt: skip


def test_a_deferred_patient_cannot_have_a_treatment_decision_until_an_rcp_finds_them_eligible() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="RcpDecisionRecorded", outcome="deferred")
    ledger.refuse(
        OutOfOrder, field=None, rule="rcp_not_eligible", message="latest RCP decision is deferred",
        event_type="TreatmentDecisionProposed", aggregate_id=PATHWAY_ID, payload=proposal(), actor=DISEASE_SPECIALIST,
        at=MEETING + timedelta(days=1),
    )  # fmt: skip
    ledger.record("RcpDecisionRecorded", PATHWAY_ID, rcp(meeting=MEETING + timedelta(days=2)), DISEASE_SPECIALIST,
                  MEETING + timedelta(days=2))  # fmt: skip
    ledger.record("TreatmentDecisionProposed", PATHWAY_ID, proposal(), DISEASE_SPECIALIST, MEETING + timedelta(days=3))
    assert ledger.types(PATHWAY_ID)[-1] == "TreatmentDecisionProposed"


def test_a_physician_outside_the_pair_cannot_propose_the_treatment() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="RcpDecisionRecorded")
    ledger.refuse(
        RuleViolation, field="user", rule="not_in_pair", message="is not in patient PSN-7F3K's pair",
        event_type="TreatmentDecisionProposed", aggregate_id=PATHWAY_ID, payload=proposal(), actor=OTHER_PHYSICIAN,
        at=MEETING + timedelta(days=1),
    )  # fmt: skip


def test_the_specialist_who_proposed_cannot_also_cosign() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionProposed")
    ledger.refuse(
        RuleViolation, field="user", rule="cosigner_must_differ", message="cannot also co-sign",
        event_type="TreatmentDecisionCosigned", aggregate_id=PATHWAY_ID, payload={"proposal_version": 3},
        actor=DISEASE_SPECIALIST, at=MEETING + timedelta(days=2),
    )  # fmt: skip
    assert not pathway(ledger).decision_cosigned


def test_a_physician_outside_the_pair_cannot_cosign() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionProposed")
    ledger.refuse(
        RuleViolation, field="user", rule="not_in_pair", message="Dr Rose Blanc",
        event_type="TreatmentDecisionCosigned", aggregate_id=PATHWAY_ID, payload={"proposal_version": 3},
        actor=OTHER_PHYSICIAN, at=MEETING + timedelta(days=2),
    )  # fmt: skip


def test_the_decision_counts_once_the_other_member_of_the_pair_cosigns_the_pending_proposal() -> None:
    proposed = walk_pathway(FakeLedger(), until="TreatmentDecisionProposed")
    assert not proposed.decision_cosigned
    cosigned = walk_pathway(FakeLedger(), until="TreatmentDecisionCosigned")
    assert cosigned.decision_cosigned and cosigned.proposal is not None
    assert cosigned.proposal.cosigned_by == CELL_THERAPY_SPECIALIST.user_id


def test_a_cosignature_naming_another_proposal_version_is_refused() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionProposed")
    ledger.refuse(
        InvalidInput, field="payload.proposal_version", rule="proposal_mismatch", message="not the pending proposal",
        event_type="TreatmentDecisionCosigned", aggregate_id=PATHWAY_ID, payload={"proposal_version": 2},
        actor=CELL_THERAPY_SPECIALIST, at=MEETING + timedelta(days=2),
    )  # fmt: skip


def test_a_cosignature_without_a_pending_proposal_is_refused() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="RcpDecisionRecorded")
    ledger.refuse(
        OutOfOrder, field=None, rule="no_pending_proposal", message="no treatment decision awaits",
        event_type="TreatmentDecisionCosigned", aggregate_id=PATHWAY_ID, payload={"proposal_version": 3},
        actor=CELL_THERAPY_SPECIALIST, at=MEETING + timedelta(days=2),
    )  # fmt: skip


def test_after_consent_is_withdrawn_the_pathway_records_no_further_decision() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger)
    withdrawn_at = MEETING + timedelta(days=4)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": withdrawn_at.date().isoformat()}, NURSE,
                  withdrawn_at)  # fmt: skip
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_withdrawn", message="withdrew consent",
        event_type="RcpDecisionRecorded", aggregate_id=PATHWAY_ID, payload=rcp(meeting=withdrawn_at),
        actor=DISEASE_SPECIALIST, at=withdrawn_at + timedelta(hours=1),
    )  # fmt: skip


def test_consent_cannot_be_withdrawn_before_it_was_given_nor_signed_twice() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionCosigned")
    at = MEETING + timedelta(days=3)
    ledger.refuse(
        OutOfOrder, field=None, rule="no_consent", message="no recorded consent", event_type="ConsentWithdrawn",
        aggregate_id=PATHWAY_ID, payload={"withdrawn_on": at.date().isoformat()}, actor=NURSE, at=at,
    )  # fmt: skip
    ledger.record("ConsentSigned", PATHWAY_ID, consent(), NURSE, at)
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_already_signed", message="already recorded", event_type="ConsentSigned",
        aggregate_id=PATHWAY_ID, payload=consent(), actor=NURSE, at=at,
    )  # fmt: skip


def test_a_nurse_cannot_record_the_rcp_decision() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    ledger.refuse(
        RuleViolation, field="user", rule="role_not_allowed", message="recorded by: physician",
        event_type="RcpDecisionRecorded", aggregate_id=PATHWAY_ID, payload=rcp(), actor=NURSE, at=MEETING,
    )  # fmt: skip

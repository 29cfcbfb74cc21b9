"""The RCP decision and the treatment proposal: what an eligible decision must name, and one proposal at a time.

Each refusal names its field and rule and stores nothing; the boundary that must pass
(an evaluation made on the meeting day, a decision of ineligibility naming no therapy)
is checked beside it.
"""

from __future__ import annotations

from datetime import timedelta

from domain.errors import InvalidInput, OutOfOrder
from tests.unit.domain_fixtures import FakeLedger
from tests.unit.pathway_fixtures import (
    CELL_THERAPY_SPECIALIST,
    DISEASE_SPECIALIST,
    MEETING,
    PATHWAY_ID,
    pathway,
    proposal,
    rcp,
    walk_pathway,
)


def test_an_eligible_decision_must_name_the_therapy() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    ledger.refuse(
        InvalidInput, field="payload.therapy", rule="required", message="payload.therapy is required",
        event_type="RcpDecisionRecorded", aggregate_id=PATHWAY_ID, payload={**rcp("eligible"), "therapy": None},
        actor=DISEASE_SPECIALIST, at=MEETING,
    )  # fmt: skip


def test_a_decision_of_ineligibility_needs_no_therapy() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    ledger.record(
        "RcpDecisionRecorded", PATHWAY_ID, {**rcp("not_eligible"), "therapy": None}, DISEASE_SPECIALIST, MEETING
    )
    assert pathway(ledger).rcp_outcome == "not_eligible"


def test_an_evaluation_made_on_the_day_of_the_meeting_is_recent_enough() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="PatientEnrolled")
    same_day = rcp(clinical=MEETING.date(), paraclinical=MEETING.date())
    ledger.record("RcpDecisionRecorded", PATHWAY_ID, same_day, DISEASE_SPECIALIST, MEETING)
    assert pathway(ledger).rcp_outcome == "eligible"


def test_a_second_proposal_waits_for_the_first_to_be_cosigned() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionProposed")
    ledger.refuse(
        OutOfOrder, field=None, rule="proposal_pending", message="awaits co-signature",
        event_type="TreatmentDecisionProposed", aggregate_id=PATHWAY_ID, payload=proposal(),
        actor=CELL_THERAPY_SPECIALIST, at=MEETING + timedelta(days=1, hours=1),
    )  # fmt: skip


def test_once_cosigned_the_pair_may_propose_again() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="TreatmentDecisionCosigned")
    [event] = ledger.record(
        "TreatmentDecisionProposed", PATHWAY_ID, proposal(), DISEASE_SPECIALIST, MEETING + timedelta(days=2, hours=1)
    )
    assert event.type == "TreatmentDecisionProposed"


def test_a_proposal_whose_therapy_is_not_the_products_kind_is_refused() -> None:
    ledger = FakeLedger()
    walk_pathway(ledger, until="RcpDecisionRecorded")
    ledger.refuse(
        InvalidInput, field="payload.therapy", rule="product_kind_mismatch", message="is a car_t product",
        event_type="TreatmentDecisionProposed", aggregate_id=PATHWAY_ID, payload={**proposal(), "therapy": "msc"},
        actor=DISEASE_SPECIALIST, at=MEETING + timedelta(days=1),
    )  # fmt: skip

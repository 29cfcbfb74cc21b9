"""The demo's care pathways as the ledger and the read models show them, on both backends."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from api.demo import record_demo
from domain.events import Actor
from domain.pathway import PatientPathway, pathway_id_for
from domain.product import TherapyProduct
from domain.trial import visible_to
from ledger.service import CustodyLedger
from ledger.settings import Settings
from projections import followup_query, queries
from projections.check import check


@pytest.fixture
def demo(ledger: CustodyLedger, settings: Settings) -> dict[str, Any]:
    """The demo recorded on this backend."""
    record_demo(settings, as_json=True, if_empty=False)
    return dict(json.loads((settings.home / "demo.json").read_text()))


def events_of(ledger: CustodyLedger, pseudonym: str) -> list[str]:
    return [envelope.type for envelope in ledger.history(pathway_id_for(pseudonym))]


def test_the_myopathy_rcp_refused_for_an_old_mri_left_nothing_and_the_second_decision_counts(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    assert events_of(ledger, "PSN-MYO-0004").count("RcpDecisionRecorded") == 1
    pathway = ledger.load(pathway_id_for("PSN-MYO-0004"))
    assert isinstance(pathway, PatientPathway) and pathway.rcp_outcome == "eligible" and pathway.decision_cosigned


def test_the_vasculitis_patient_was_deferred_then_found_eligible(ledger: CustodyLedger, demo: dict[str, Any]) -> None:
    outcomes = [
        envelope.body["payload"]["outcome"]
        for envelope in ledger.history(pathway_id_for("PSN-VAS-0003"))
        if envelope.type == "RcpDecisionRecorded"
    ]
    assert outcomes == ["deferred", "eligible"]


def test_the_worklist_shows_the_sle_day_14_and_the_ssc_day_7_visits_overdue(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    today = ledger.clock.now().date()
    overdue = followup_query.worklist(ledger.store, today, overdue_only=True)
    assert {(row["patient_pseudonym"], row["visit"]) for row in overdue} == {
        ("PSN-SLE-0001", "day 14"),
        ("PSN-SSC-0002", "day 7"),
    }
    every_open = followup_query.worklist(ledger.store, today)
    assert ("PSN-SLE-0001", "day 28", "due") in {(r["patient_pseudonym"], r["visit"], r["status"]) for r in every_open}
    assert "day 7" not in {r["visit"] for r in every_open if r["patient_pseudonym"] == "PSN-SLE-0001"}


def test_the_sle_timeline_holds_her_pathway_her_graded_crs_and_her_overdue_visit(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    rows = queries.timeline(ledger.store, "PSN-SLE-0001")
    types = [row["event_type"] for row in rows]
    assert types.index("TreatmentDecisionCosigned") < types.index("ApheresisCollected") < types.index("Infused")
    assert types.index("LymphodepletionRecorded") < types.index("Infused")
    [crs] = [row for row in rows if row["event_type"] == "AdverseEventRecorded"]
    assert (crs["payload"]["category"], crs["payload"]["grade"]) == ("crs", 1)
    overdue = followup_query.overdue_for_patient(ledger.store, "PSN-SLE-0001", ledger.clock.now().date())
    assert [row["visit"] for row in overdue] == ["day 14"]


def test_the_sponsor_sees_the_trials_car_t_products_and_not_the_msc_doses(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    sponsor = Actor("sponsor", "Sophie Lambert", "sponsor")
    seen = {}
    for product_id in demo["products"]:
        product = ledger.load(UUID(product_id))
        assert isinstance(product, TherapyProduct)
        seen[product.patient_pseudonym, product.product_kind] = visible_to(sponsor, product, ledger.load)
    assert seen[("PSN-SLE-0001", "car_t")] and seen[("PSN-VAS-0003", "car_t")]
    assert not seen[("PSN-SSC-0002", "msc")]


def test_the_read_models_rebuilt_from_the_log_equal_the_live_tables(
    ledger: CustodyLedger, demo: dict[str, Any]
) -> None:
    assert check(ledger.store).differences == []

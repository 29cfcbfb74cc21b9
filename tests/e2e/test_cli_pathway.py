"""`custody followup` and `custody pathway` on the demo ledger; the timeline shows overdue visits."""

from __future__ import annotations

from tests.e2e.conftest import Custody


def test_followup_overdue_json_lists_only_overdue_visits_with_pseudonyms(demo_ledger: Custody) -> None:
    result = demo_ledger.run_json("followup", "--overdue", "--json")
    assert result["overdue_only"] is True
    assert {(v["patient_pseudonym"], v["visit"]) for v in result["visits"]} == {
        ("PSN-SLE-0001", "day 14"),
        ("PSN-SSC-0002", "day 7"),
    }
    assert all(v["status"] == "overdue" for v in result["visits"])


def test_followup_prints_the_worklist_for_a_person(demo_ledger: Custody) -> None:
    result = demo_ledger.run("followup")
    assert "overdue" in result.stdout and "PSN-SLE-0001" in result.stdout and "day 28" in result.stdout


def test_pathway_json_shows_the_pair_the_rcp_and_the_cosigned_decision(demo_ledger: Custody) -> None:
    state = demo_ledger.run_json("pathway", "PSN-VAS-0003", "--json")
    assert state["rcp_outcome"] == "eligible" and state["consent_signed"] is True
    assert state["treatment_decision"]["proposed_by"] == "internist"
    assert state["treatment_decision"]["cosigned_by"] == "physician"


def test_pathway_of_an_unknown_pseudonym_exits_2_naming_the_field(demo_ledger: Custody) -> None:
    result = demo_ledger.run_json("pathway", "PSN-NOBODY", "--json", expect=2)
    assert result["field"] == "patient" and result["rule"] == "not_found"


def test_timeline_json_lists_the_patients_overdue_visits(demo_ledger: Custody) -> None:
    result = demo_ledger.run_json("timeline", "--patient", "PSN-SSC-0002", "--json")
    assert [v["visit"] for v in result["overdue_visits"]] == ["day 7"]
    assert "RcpDecisionRecorded" in {event["event_type"] for event in result["events"]}

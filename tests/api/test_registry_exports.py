"""`GET /registry-exports/{registry}` and `GET /products/{id}/registry/{registry}` on both backends.

A lupus CAR-T journey recorded through the ledger (tests/integration/journeys.py: pathway
decided 30 days before the start on 2 March 2026, collection the next day, conditioning
22–24 March, infusion on 27 March, a day 7 visit on 3 April) whose visit lacks the
response and survival the registries require: the export is refused naming them, a
correction supplies them, and the rows then read as written here by hand.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.service import CustodyLedger
from tests.api.conftest import START
from tests.integration.journeys import Journey, Recorder, enrolled, infused


def _day_7_version(ledger: CustodyLedger, journey: Journey) -> int:
    visits = [e.version for e in ledger.history(journey.product) if e.type == "FollowUpRecorded"]
    assert len(visits) == 1
    return visits[0]


def _complete_the_visit(team: Recorder, ledger: CustodyLedger, journey: Journey) -> None:
    assert journey.ended_at is not None
    team(
        "physician", "EventCorrected", journey.product, journey.ended_at + timedelta(days=8), "approved",
        corrects_version=_day_7_version(ledger, journey), reason="registry items not entered at the visit",
        corrections={"disease_response": "not_evaluated", "survival": "alive"},
    )  # fmt: skip


def test_a_visit_lacking_response_and_survival_refuses_the_export_and_a_correction_completes_it(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = infused(team, START)
    physician = sign_in("physician")
    refused = physician.get("/registry-exports/ebmt")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert (problem["rule"], problem["field"]) == ("registry_field_missing", "FollowUpRecorded.disease_response")
    version = _day_7_version(ledger, journey)
    assert (
        f"best_response needs FollowUpRecorded.disease_response of the day 7 visit (version {version}"
        in (problem["detail"])
    )
    assert "survival_status needs FollowUpRecorded.survival" in problem["detail"]

    _complete_the_visit(team, ledger, journey)
    answer = physician.get("/registry-exports/ebmt")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["registry"] == "ebmt" and body["withheld"] == []
    treatment, visit = body["rows"]
    coi = journey.coi.value
    assert {k: treatment[k] for k in (
        "record", "patient_code", "coi", "indication", "prior_lines", "cell_therapy", "product", "decision_date",
        "collection_date", "lymphodepletion_start", "infusion_date", "crs_max_grade", "trial", "visit",
    )} == {
        "record": "CT", "patient_code": "PSN-TEST-0001", "coi": coi, "indication": "SLE", "prior_lines": "3",
        "cell_therapy": "CAR-T", "product": "ACADEMIC-CD19", "decision_date": "2026-02-02",
        "collection_date": "2026-03-03", "lymphodepletion_start": "2026-03-22", "infusion_date": "2026-03-27",
        "crs_max_grade": "0", "trial": "2025-500123-11-00", "visit": "",
    }  # fmt: skip
    assert {k: visit[k] for k in ("record", "coi", "visit", "assessment_date", "days_after_infusion",
                                  "best_response", "survival_status", "indication")} == {
        "record": "FU", "coi": coi, "visit": "day 7", "assessment_date": "2026-04-03", "days_after_infusion": "7",
        "best_response": "NE", "survival_status": "alive", "indication": "",
    }  # fmt: skip

    later = physician.get("/registry-exports/descar-t", params={"since": "2026-03-28"})
    assert later.status_code == 200, later.text
    assert [(row["record"], row["reponse"], row["statut_vital"]) for row in later.json()["rows"]] == [
        ("suivi", "non évaluée", "vivant")
    ]
    one = physician.get(f"/products/{coi}/registry/descar-t")
    assert one.status_code == 200, one.text
    assert [row["date_injection"] for row in one.json()["rows"]] == ["27/03/2026", ""]


def test_a_product_never_infused_and_an_unknown_registry_or_day_are_refused_by_name(
    sign_in: Any, team: Recorder
) -> None:
    journey = enrolled(team, START)
    nurse = sign_in("nurse")
    untreated = nurse.get(f"/products/{journey.coi.value}/registry/ebmt")
    assert untreated.status_code == 409
    assert (untreated.json()["rule"], untreated.json()["field"]) == ("not_treated", "product")
    unknown = nurse.get("/registry-exports/cibmtr")
    assert unknown.status_code == 422
    assert (unknown.json()["rule"], unknown.json()["field"]) == ("unknown_registry", "format")
    bad_day = nurse.get("/registry-exports/ebmt", params={"since": "2026-13-01"})
    assert bad_day.status_code == 422
    assert (bad_day.json()["rule"], bad_day.json()["field"]) == ("invalid_date", "since")
    empty = nurse.get("/registry-exports/ebmt")
    assert empty.status_code == 200
    assert empty.json()["rows"] == []


def test_a_pharmacist_and_a_sponsor_may_not_read_registry_rows(sign_in: Any) -> None:
    for role in ("pharmacist", "sponsor"):
        answer = sign_in(role).get("/registry-exports/ebmt")
        assert answer.status_code == 403
        assert answer.json()["rule"] == "role_not_allowed"

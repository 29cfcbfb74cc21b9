"""Training records over HTTP: an administrator records and withdraws them, a person reads their own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.service import CustodyLedger
from tests.api.conftest import MovableClock, password
from tests.integration.journeys import verify


def training(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": "TR-THAW-2",
        "evidence": "thawing course, certificate 118",
        "valid_until": "2099-01-31",
        "events": ["Thawed"],
        "signer_password": password("admin"),
    }
    body.update(changes)
    return body


def test_the_administrator_records_a_qualification_and_the_person_reads_it_as_valid(
    sign_in: Any, ledger: CustodyLedger
) -> None:
    answer = sign_in("admin").post("/staff/nurse/qualifications", training())
    assert answer.status_code == 201, answer.text
    [event] = answer.json()["events"]
    assert (event["body"]["type"], event["body"]["actor"]["user_id"]) == ("StaffQualificationRecorded", "admin")
    shown = sign_in("nurse").get("/staff/nurse")
    assert shown.status_code == 200, shown.text
    held = {q["reference"]: q for q in shown.json()["qualifications"]}
    assert held["TR-THAW-2"]["state"] == "valid" and held["TR-THAW-2"]["covers"] == ["Thawed"]
    assert verify(ledger).intact


def test_refusals_name_the_field_and_store_nothing(sign_in: Any, ledger: CustodyLedger) -> None:
    admin = sign_in("admin")
    size = ledger.store.size()
    specialty = {"specialties": ["haematology"], "evidence": "RPPS", "signer_password": password("admin")}
    cases = [
        ("/staff/nurse/qualifications", training(signer_password=None), 401, "password"),  # first signature
        ("/staff/nurse/qualifications", training(events=["ProductReleased"]), 409, "payload.events[0]"),
        ("/staff/nurse/qualifications", training(valid_until="2000-01-01"), 422, "payload.valid_until"),
        ("/staff/nobody/qualifications", training(), 404, "username"),
        ("/staff/auditor/qualifications", training(), 409, "aggregate_id"),
        ("/staff/nurse/specialties", specialty, 409, "payload.specialties"),
    ]
    for path, body, status, field in cases:
        answer = admin.post(path, body)
        assert (answer.status_code, answer.json().get("field")) == (status, field), (path, body, answer.text)
    assert ledger.store.size() == size


def test_only_the_administrator_records_and_only_admins_auditors_and_the_person_read(sign_in: Any) -> None:
    assert sign_in("qp").post("/staff/nurse/qualifications", training()).status_code == 403
    assert sign_in("nurse").get("/staff/pharmacist").status_code == 403
    assert sign_in("auditor").get("/staff/nurse").status_code == 200
    assert sign_in("admin").get("/staff/nobody").status_code == 404


def test_the_day_after_its_end_a_training_shows_expired_and_is_withdrawn_from_that_day(
    sign_in: Any, clock: MovableClock
) -> None:
    admin = sign_in("admin")
    today = clock.now().date()
    renewal = training(reference="TR-nurse", events=[], role_wide=True, valid_until=today.isoformat())
    assert admin.post("/staff/nurse/qualifications", renewal).status_code == 201
    clock.advance(timedelta(days=1))
    admin = sign_in("admin")
    shown = admin.get("/staff/nurse").json()
    assert {q["reference"]: q["state"] for q in shown["qualifications"]}["TR-nurse"] == "expired"
    withdrawal = {"reason": "replaced", "signer_password": password("admin")}
    answer = admin.post("/staff/nurse/qualifications/TR-nurse/withdrawal", withdrawal)
    assert answer.status_code == 201, answer.text
    assert answer.json()["events"][0]["body"]["payload"]["effective_on"] == (today + timedelta(days=1)).isoformat()

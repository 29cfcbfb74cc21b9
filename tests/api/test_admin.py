"""An administrator registers staff over HTTP; the new person must replace the enrolment secret sealing their key."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.service import CustodyLedger
from tests.api.conftest import password
from tests.integration.journeys import verify


def new_person(**changes: Any) -> dict[str, Any]:
    return {
        "username": "nurse2",
        "name": "Léa Bernard",
        "role": "nurse",
        "password": "nurse2-password",
        "signer_password": password("admin"),
        **changes,
    }


def test_admin_registers_a_person_who_must_then_choose_a_password(
    client: TestClient, sign_in: Any, ledger: CustodyLedger
) -> None:
    answer = sign_in("admin").post("/staff", new_person())
    assert answer.status_code == 201, answer.text
    types = [event["body"]["type"] for event in answer.json()["events"]]
    assert types == ["StaffMemberRegistered", "PrintedNameClaimed", "SigningKeyRegistered"]
    assert answer.json()["events"][0]["body"]["actor"]["user_id"] == "admin"
    token = client.post("/auth/token", data={"username": "nurse2", "password": "nurse2-password"})
    assert token.status_code == 403 and token.json()["rule"] == "password_change_required"
    assert verify(ledger).intact


def test_registration_refusals_store_nothing(sign_in: Any, ledger: CustodyLedger) -> None:
    admin = sign_in("admin")
    size = ledger.store.size()
    cases = [
        (new_person(signer_password=None), 401, "password"),
        (new_person(role="surgeon"), 422, "payload.role"),
        (new_person(password="short"), 422, "password"),
        (new_person(username="Bad Name!"), 422, "body.username"),
        (new_person(username="nurse"), 422, "username"),
    ]
    for body, status, field in cases:
        answer = admin.post("/staff", body)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["field"] == field
    assert ledger.store.size() == size
    assert sign_in("nurse").post("/staff", new_person()).status_code == 403

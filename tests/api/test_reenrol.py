"""Over HTTP: ``POST /staff/{username}/reenrol`` gives a person who forgot their password a new key and secret.

ledger/reenrolment.py, api/rest/admin.py. Both backends (the ``ledger`` fixture). The nurse of the team forgets
her password; the fixtures' administrator re-enrols her.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.audit_log import read_audit
from ledger.service import CustodyLedger
from ledger.signing_lockout import SigningLocked
from tests.api.conftest import password
from tests.integration.journeys import verify

REASON = "forgot her password; identity checked in person"
CHOSEN = "brume saumon quarante vélo"


def _body(**changes: Any) -> dict[str, Any]:
    return {"reason": REASON, "signer_password": password("admin"), **changes}


def _token(client: TestClient, username: str, secret: str) -> Any:
    return client.post("/auth/token", data={"username": username, "password": secret})


def test_the_nurse_gets_a_generated_secret_shown_once_and_her_old_password_opens_nothing(
    client: TestClient, sign_in: Any, ledger: CustodyLedger
) -> None:
    old_key = ledger.actor("nurse")[1].active_keys[-1]

    answer = sign_in("admin").post("/staff/nurse/reenrol", _body())

    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    done = answer.json()
    assert [event["body"]["type"] for event in done["events"]] == ["SigningKeyRegistered", "SigningKeyRevoked"]
    assert (done["username"], done["reenrolled_by"], done["revoked_keys"]) == ("nurse", "admin", [old_key])
    assert "signing_lock_lifted" not in done and done["signing_failures_reset"] == 0
    assert ledger.actor("nurse")[1].active_keys == [done["new_key"]]
    secret = done["enrolment_secret"]
    assert _token(client, "nurse", password("nurse")).status_code == 401
    limited = _token(client, "nurse", secret)
    assert (limited.status_code, limited.json()["rule"]) == (403, "password_change_required")
    changed = client.post(
        "/me/password",
        json={"old_password": secret, "new_password": CHOSEN},
        headers={"Authorization": f"Bearer {limited.json()['access_token']}"},
    )
    assert changed.status_code == 200 and changed.json()["resealed_keys"] == [done["new_key"]]
    assert _token(client, "nurse", CHOSEN).status_code == 200
    assert verify(ledger).intact
    [row] = read_audit(ledger.store, action="staff_reenrolled")
    assert (row.actor, row.subject, row.detail["channel"]) == ("admin", "nurse", "rest")
    assert secret not in sign_in("admin").get("/audit").text


def test_a_secret_the_administrator_gives_is_not_sent_back(client: TestClient, sign_in: Any) -> None:
    answer = sign_in("admin").post("/staff/nurse/reenrol", _body(enrolment_secret="nurse-second-secret"))

    assert answer.status_code == 200, answer.text
    assert "enrolment_secret" not in answer.json() and "nurse-second-secret" not in answer.text
    assert _token(client, "nurse", "nurse-second-secret").json()["rule"] == "password_change_required"


def test_a_signing_lock_is_lifted_and_said(client: TestClient, sign_in: Any, ledger: CustodyLedger) -> None:
    for _ in range(ledger.signing_lockout.max_failures - 1):
        ledger.signing_lockout.failed("nurse", "rest")
    with pytest.raises(SigningLocked):
        ledger.signing_lockout.failed("nurse", "rest")

    answer = sign_in("admin").post("/staff/nurse/reenrol", _body())

    assert answer.json()["signing_lock_lifted"]["consecutive_failures"] == ledger.signing_lockout.max_failures
    assert not ledger.signing_lockout.state("nurse").locked
    [unlocked] = read_audit(ledger.store, action="signing_unlocked")
    assert (unlocked.actor, unlocked.subject) == ("admin", "nurse")
    assert unlocked.detail["reason"] == f"re-enrolment: {REASON}"


def test_refusals_name_the_field_and_the_rule_and_change_nothing(
    client: TestClient, sign_in: Any, ledger: CustodyLedger
) -> None:
    admin = sign_in("admin")
    size, audited = ledger.store.size(), len(read_audit(ledger.store))
    cases = [
        ("nobody", _body(), 404, "username", "staff_not_registered"),
        ("admin", _body(), 409, "username", "reenrol_self"),
        ("nurse", _body(reason=" "), 422, "reason", "required"),
        ("nurse", {"signer_password": password("admin")}, 422, "body.reason", "schema"),
        ("nurse", _body(enrolment_secret="short"), 422, "enrolment_secret", "password_length"),
        ("nurse", _body(password="x"), 422, "body.password", "schema"),
        ("nurse", _body(signer_password=None), 401, "password", "signature_password_required"),
    ]
    for username, body, status, field, rule in cases:
        answer = admin.post(f"/staff/{username}/reenrol", body)
        assert (answer.status_code, answer.json()["field"], answer.json()["rule"]) == (status, field, rule), answer.text
    for role in ("nurse", "pharmacist", "auditor"):
        refused = sign_in(role).post("/staff/physician/reenrol", _body())
        assert (refused.status_code, refused.json()["rule"]) == (403, "role_not_allowed")
    assert (ledger.store.size(), len(read_audit(ledger.store))) == (size, audited)
    assert _token(client, "nurse", password("nurse")).status_code == 200

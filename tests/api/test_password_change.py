"""Over HTTP: an enrolment secret gets 403 password_change_required and a token for POST /me/password only.

21 CFR Part 11 §11.300 (ledger/password_enrolment.py, api/rest/me.py). Both backends (the ``ledger`` fixture).
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from ledger.audit_log import read_audit
from ledger.service import CustodyLedger
from tests.api.conftest import password
from tests.integration.journeys import verify

SECRET = "enrolment-secret-7731"
CHOSEN = "brume saumon quarante vélo"


def _enrol_lea(admin: Any) -> None:
    answer = admin.post(
        "/staff",
        {"username": "lea", "name": "Léa Bernard", "role": "nurse", "password": SECRET,
         "signer_password": password("admin")},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text


def _token(client: TestClient, secret: str) -> Any:
    return client.post("/auth/token", data={"username": "lea", "password": secret})


def _change(client: TestClient, token: str, old: str, new: str) -> Any:
    return client.post(
        "/me/password",
        json={"old_password": old, "new_password": new},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_signing_in_with_the_enrolment_secret_says_where_to_change_it(client: TestClient, sign_in: Any) -> None:
    _enrol_lea(sign_in("admin"))

    answer = _token(client, SECRET)

    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["rule"] == "password_change_required" and body["change_password_at"] == "/me/password"
    assert "POST /me/password" in body["detail"] and "custody password change" in body["detail"]
    assert answer.headers["link"] == '</me/password>; rel="change-password"'
    limited = {"Authorization": f"Bearer {body['access_token']}"}
    refused = client.get("/products", headers=limited)
    assert (refused.status_code, refused.json()["rule"]) == (403, "password_change_required")
    assert _token(client, "not-the-secret").status_code == 401  # a wrong secret is just a wrong password


def test_after_changing_it_the_person_signs_in_and_signs_and_the_secret_is_refused(
    client: TestClient, sign_in: Any, ledger: CustodyLedger
) -> None:
    _enrol_lea(sign_in("admin"))
    key_id = ledger.actor("lea")[1].active_keys[-1]
    limited = _token(client, SECRET).json()["access_token"]

    changed = _change(client, limited, SECRET, CHOSEN)

    assert changed.status_code == 200, changed.text
    assert changed.json()["resealed_keys"] == [key_id] and changed.json()["replaced_enrolment_secret"] is True
    assert _token(client, SECRET).status_code == 401
    signed_in = _token(client, CHOSEN)
    assert signed_in.status_code == 200 and signed_in.json()["role"] == "nurse"
    full = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert client.get("/products", headers=full).status_code == 200
    assert ledger.actor("lea")[1].active_keys == [key_id]
    [audited] = read_audit(ledger.store, action="password_changed")
    assert (audited.actor, audited.subject) == ("lea", "lea")
    assert verify(ledger).intact


def test_a_person_with_an_ordinary_token_changes_their_password(client: TestClient, sign_in: Any) -> None:
    nurse = sign_in("nurse")
    token = nurse.headers["Authorization"].removeprefix("Bearer ")
    new = "falaise ortie lanterne 93"

    assert _change(client, token, password("nurse"), new).status_code == 200

    assert client.post("/auth/token", data={"username": "nurse", "password": password("nurse")}).status_code == 401
    assert client.post("/auth/token", data={"username": "nurse", "password": new}).status_code == 200


def test_refused_changes_name_the_field_and_the_rule_and_change_nothing(
    client: TestClient, sign_in: Any, ledger: CustodyLedger
) -> None:
    _enrol_lea(sign_in("admin"))
    limited = _token(client, SECRET).json()["access_token"]
    cases = [
        (SECRET, "short-pass1", 422, "new_password", "password_too_short"),
        (SECRET, "Lea-Bernard-2026!", 422, "new_password", "password_contains_name"),
        (SECRET, "password1234", 422, "new_password", "password_common"),
        (SECRET, SECRET, 422, "new_password", "password_unchanged"),
        ("wrong-old-secret", CHOSEN, 401, "old_password", "wrong_password"),
    ]
    for old, new, status, field, rule in cases:
        answer = _change(client, limited, old, new)
        assert (answer.status_code, answer.json()["field"], answer.json()["rule"]) == (status, field, rule), answer.text
    missing = client.post("/me/password", json={"old_password": SECRET, "new_password": CHOSEN})
    assert missing.status_code == 401
    assert read_audit(ledger.store, action="password_changed") == []
    assert _token(client, SECRET).status_code == 403  # still the enrolment secret, still to be replaced

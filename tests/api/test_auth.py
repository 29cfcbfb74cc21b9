"""Sign-in, tokens, lockout: every endpoint but /health and the OpenAPI document needs a valid token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.api.conftest import MovableClock, password

PROTECTED = [
    ("GET", "/products"),
    ("GET", "/products/00000000-0000-0000-0000-000000000001"),
    ("GET", "/products/00000000-0000-0000-0000-000000000001/timeline"),
    ("GET", "/products/00000000-0000-0000-0000-000000000001/export"),
    ("GET", "/products/00000000-0000-0000-0000-000000000001/fhir"),
    ("GET", "/patients/PSN-TEST-0001/timeline"),
    ("GET", "/inventory"),
    ("GET", "/audit"),
    ("GET", "/metrics"),
    ("GET", "/verify"),
    ("GET", "/checkpoints/latest"),
    ("POST", "/products"),
    ("POST", "/products/00000000-0000-0000-0000-000000000001/events"),
    ("POST", "/shipments/00000000-0000-0000-0000-000000000001/events"),
    ("POST", "/batches/00000000-0000-0000-0000-000000000001/events"),
    ("POST", "/pathways/PSN-TEST-0001/events"),
    ("POST", "/sites/SITE-1/events"),
    ("POST", "/trials/PROTO-1/events"),
]


def token_of(client: TestClient, username: str, secret: str | None = None) -> Any:
    return client.post("/auth/token", data={"username": username, "password": secret or password(username)})


def test_health_and_openapi_need_no_token(client: TestClient) -> None:
    assert client.get("/health").status_code == 200
    document = client.get("/openapi.json").json()
    assert "/auth/token" in document["paths"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_every_other_endpoint_answers_401_without_a_token(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path, json={"type": "AnnotationAdded"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["rule"] == "no_token"


def test_a_forged_or_garbled_token_is_refused(client: TestClient) -> None:
    good = token_of(client, "nurse").json()["access_token"]
    forged = good[:-3] + ("aaa" if not good.endswith("aaa") else "bbb")
    for value in (forged, "not-a-token", ""):
        answer = client.get("/products", headers={"Authorization": f"Bearer {value}"})
        assert answer.status_code == 401, value


def test_sign_in_gives_a_bearer_token_for_the_role(client: TestClient) -> None:
    answer = token_of(client, "pharmacist")
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["role"] == "pharmacist"
    assert client.get("/products", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient) -> None:
    wrong = token_of(client, "nurse", "not-the-password")
    unknown = token_of(client, "nobody-here", "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["rule"] == "bad_credentials"


def test_the_ledger_itself_cannot_sign_in(client: TestClient) -> None:
    assert token_of(client, "ledger", "anything-at-all").status_code == 401


def test_tokens_expire(client: TestClient, clock: MovableClock, ledger: CustodyLedger) -> None:
    token = token_of(client, "nurse").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/products", headers=headers).status_code == 200
    clock.advance(timedelta(minutes=ledger.settings.token_minutes, seconds=1))
    answer = client.get("/products", headers=headers)
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_repeated_failures_lock_the_account_for_a_while(
    client: TestClient, clock: MovableClock, ledger: CustodyLedger
) -> None:
    limit = ledger.settings.login_max_failures
    answers = [token_of(client, "nurse", f"wrong-{n}").status_code for n in range(limit)]
    assert answers == [401] * (limit - 1) + [429]
    locked = token_of(client, "nurse")
    assert locked.status_code == 429, "the right password is refused while locked"
    assert locked.json()["rule"] == "account_locked"
    assert int(locked.headers["retry-after"]) > 0
    assert token_of(client, "physician").status_code == 200, "other accounts are not locked"
    clock.advance(timedelta(minutes=ledger.settings.login_lockout_minutes, seconds=1))
    assert token_of(client, "nurse").status_code == 200


def test_a_success_resets_the_failure_count(client: TestClient, ledger: CustodyLedger) -> None:
    limit = ledger.settings.login_max_failures
    for n in range(limit - 1):
        assert token_of(client, "nurse", f"wrong-{n}").status_code == 401
    assert token_of(client, "nurse").status_code == 200
    for n in range(limit - 1):
        assert token_of(client, "nurse", f"wrong-again-{n}").status_code == 401
    assert token_of(client, "nurse").status_code == 200


def test_passwords_are_stored_as_argon2id_hashes(client: TestClient, ledger: CustodyLedger) -> None:
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT password_hash FROM api_credentials WHERE username = %s", ("nurse",))
        row = cursor.fetchone()
    assert row is not None
    assert str(row["password_hash"]).startswith("$argon2id$")
    assert password("nurse") not in str(row["password_hash"])


def test_staff_registered_before_the_api_sign_in_with_their_key_password(
    client: TestClient, ledger: CustodyLedger
) -> None:
    register_staff(ledger, "older", "Olga Older", "nurse", "older-password", registrar="ledger")
    with ledger.store.side_transaction() as cursor:
        cursor.execute("DELETE FROM api_credentials WHERE username = %s", ("older",))
    assert token_of(client, "older", "wrong-password").status_code == 401
    assert token_of(client, "older", "older-password").status_code == 200
    with ledger.store.side_transaction() as cursor:
        cursor.execute("SELECT password_hash FROM api_credentials WHERE username = %s", ("older",))
        assert cursor.fetchone() is not None, "the first sign-in stores the hash"


def test_a_changed_role_needs_a_new_sign_in(client: TestClient, ledger: CustodyLedger) -> None:
    token = token_of(client, "nurse").json()["access_token"]
    claims = dict(client.app.state.context.tokens.read(token))  # type: ignore[attr-defined]
    claims["role"] = "auditor"
    forged_role = client.app.state.context.tokens.serializer.dumps(claims)  # type: ignore[attr-defined]
    answer = client.get("/products", headers={"Authorization": f"Bearer {forged_role}"})
    assert answer.status_code == 401

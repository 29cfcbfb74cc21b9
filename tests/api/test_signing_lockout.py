"""The signing lockout over HTTP: writes count wrong signature passwords, an administrator unlocks, auditors read.

On SQLite and PostgreSQL (the ``ledger`` fixture). The limit, 5, is the default written by hand.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from ledger.service import CustodyLedger
from tests.api.conftest import password
from tests.conftest import ADMIN_PASSWORD

WRONG = "not-the-password-123"


def note(secret: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "AnnotationAdded", "payload": {"text": "checked"}, "meaning": "authored"}
    return body if secret is None else {**body, "password": secret}


def write(session: Any, secret: str | None) -> Any:
    """A signed write on a product nobody enrolled: the signature is judged before the product is looked up."""
    return session.post(f"/products/{uuid.uuid4()}/events", note(secret))


def lock(session: Any) -> list[Any]:
    return [write(session, WRONG) for _ in range(5)]


def unlock(admin: Any, username: str, **changes: Any) -> Any:
    body = {"reason": "identity checked at the ward", "signer_password": ADMIN_PASSWORD, **changes}
    return admin.post(f"/staff/{username}/signing-unlock", body)


def test_five_wrong_passwords_lock_and_the_sixth_right_one_is_refused(sign_in: Any, ledger: CustodyLedger) -> None:
    nurse = sign_in("nurse")
    size = ledger.store.size()
    answers = lock(nurse)
    assert [(a.status_code, a.json()["rule"]) for a in answers] == [(401, "signature_authentication")] * 4 + [
        (401, "signing_locked")
    ]
    sixth = write(nurse, password("nurse"))
    assert (sixth.status_code, sixth.json()["rule"], sixth.json()["title"]) == (401, "signing_locked", "Signing locked")
    assert "POST /staff/nurse/signing-unlock" in sixth.json()["detail"]
    assert ledger.store.size() == size, "nothing was signed or stored"
    assert ledger.signing_lockout.state("nurse").locked


def test_an_administrator_unlocks_over_http_and_refusals_change_nothing(sign_in: Any, ledger: CustodyLedger) -> None:
    nurse, admin = sign_in("nurse"), sign_in("admin")
    lock(nurse)
    assert unlock(sign_in("pharmacist"), "nurse").status_code == 403
    missing_reason = admin.post("/staff/nurse/signing-unlock", {"signer_password": ADMIN_PASSWORD})
    assert (missing_reason.status_code, missing_reason.json()["rule"]) == (422, "schema")
    blank = unlock(admin, "nurse", reason="  ")
    assert (blank.status_code, blank.json()["field"], blank.json()["rule"]) == (422, "reason", "reason_required")
    assert unlock(admin, "nobody").status_code == 404
    assert ledger.signing_lockout.state("nurse").locked, "no refused unlock lifted the lock"
    done = unlock(admin, "nurse")
    assert done.status_code == 200, done.text
    assert done.json() == {
        "username": "nurse",
        "unlocked_by": "admin",
        "locked_at": done.json()["locked_at"],
        "consecutive_failures": 5,
    }
    again = unlock(admin, "nurse")
    assert (again.status_code, again.json()["rule"]) == (409, "signing_not_locked")
    after = write(nurse, password("nurse"))
    assert after.json()["rule"] not in {"signing_locked", "signature_authentication"}, after.text
    assert ledger.signing_lockout.state("nurse").failures == 0


def test_signing_lockout_does_not_lock_sign_in_nor_the_reverse(
    client: TestClient, sign_in: Any, ledger: CustodyLedger
) -> None:
    lock(sign_in("nurse"))
    token = client.post("/auth/token", data={"username": "nurse", "password": password("nurse")})
    assert token.status_code == 200, "a signing lock leaves sign-in (and reading) alone"
    for _ in range(5):
        client.post("/auth/token", data={"username": "pharmacist", "password": WRONG})
    locked = client.post("/auth/token", data={"username": "pharmacist", "password": password("pharmacist")})
    assert (locked.status_code, locked.json()["rule"]) == (429, "account_locked")
    state = ledger.signing_lockout.state("pharmacist")
    assert (state.failures, state.locked) == (0, False), "failed sign-ins are not failed signatures"


def test_auditors_and_administrators_read_the_security_log_in_get_audit(sign_in: Any) -> None:
    lock(sign_in("nurse"))
    unlock(sign_in("admin"), "nurse")
    for reader in ("auditor", "admin"):
        rows = sign_in(reader).get("/audit").json()["security_log"]
        assert [(r["action"], r["actor"], r["subject"], r["detail"]["channel"]) for r in rows] == [
            ("signature_failed", "nurse", "nurse", "rest")
        ] * 5 + [("signing_locked", "nurse", "nurse", "rest"), ("signing_unlocked", "admin", "nurse", "rest")]
    filtered = sign_in("auditor").get("/audit", params={"user": "admin"}).json()["security_log"]
    assert [r["action"] for r in filtered] == ["signing_unlocked"]
    pharmacist = sign_in("pharmacist").get("/audit")
    assert pharmacist.status_code == 200 and "security_log" not in pharmacist.json(), "signed events only"
    sponsor = sign_in("sponsor").get("/audit")
    assert (sponsor.status_code, sponsor.json()["rule"]) == (403, "role_not_allowed")
    assert WRONG not in sign_in("auditor").get("/audit").text

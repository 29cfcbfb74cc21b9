"""The web interface: an enrolment secret leads to /ui/password and nowhere else until a password is chosen.

21 CFR Part 11 §11.300 (api/web/password.py). Both backends (the ``ledger`` fixture).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from ledger.audit_log import read_audit
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.integration.journeys import Recorder

SECRET = "enrolment-secret-5190"
CHOSEN = "brume saumon quarante vélo"


def _signed_in_with_the_secret(client: TestClient, team: Recorder) -> TestClient:
    register_staff(team.ledger, "lea", "Léa Bernard", "nurse", SECRET, registrar="ledger", must_change_password=True)
    client.cookies.clear()
    answer = client.post(
        "/ui/sign-in",
        data={"username": "lea", "password": SECRET, "next": "/ui/inventory"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/password?next=/ui/inventory"
    return client


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _submit(client: TestClient, old: str, new: str, repeat: str | None = None) -> Any:
    csrf = _csrf(client.get("/ui/password?next=/ui/inventory").text)
    form = {"csrf": csrf, "old_password": old, "new_password": new, "new_password_repeat": repeat or new}
    return client.post("/ui/password", data={**form, "next": "/ui/inventory"}, follow_redirects=False)


def test_an_enrolment_secret_session_is_sent_to_the_password_page_from_every_page(
    client: TestClient, team: Recorder
) -> None:
    browser = _signed_in_with_the_secret(client, team)

    for page in ("/ui/", "/ui/inventory", "/ui/audit"):
        answer = browser.get(page, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/password?next=")
    form = browser.get("/ui/password").text
    assert 'id="enrolment-notice"' in form
    assert '<label for="new_password">Nouveau mot de passe</label>' in form  # French by default, labelled
    assert 'autocomplete="new-password"' in form


def test_choosing_a_password_opens_the_pages_and_the_secret_no_longer_signs_in(
    client: TestClient, team: Recorder, ledger: CustodyLedger
) -> None:
    browser = _signed_in_with_the_secret(client, team)

    answer = _submit(browser, SECRET, CHOSEN)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/password?done=true&next=/ui/inventory"
    assert 'id="password-changed"' in browser.get("/ui/password?done=true&next=/ui/inventory").text
    assert browser.get("/ui/inventory", follow_redirects=False).status_code == 200
    assert [row.subject for row in read_audit(ledger.store, action="password_changed")] == ["lea"]
    browser.cookies.clear()
    again = browser.post("/ui/sign-in", data={"username": "lea", "password": SECRET}, follow_redirects=False)
    assert again.status_code == 401


def test_refusals_are_shown_on_the_form_with_field_and_rule(client: TestClient, team: Recorder) -> None:
    browser = _signed_in_with_the_secret(client, team)
    cases = [
        (SECRET, CHOSEN, "a different repeat", 422, "new_password_repeat", "password_mismatch"),
        (SECRET, "léa bernard 1999", None, 422, "new_password", "password_contains_name"),
        (SECRET, "password1234", None, 422, "new_password", "password_common"),
        ("wrong-old-secret", CHOSEN, None, 401, "old_password", "wrong_password"),
    ]
    for old, new, repeat, status, field, rule in cases:
        answer = _submit(browser, old, new, repeat)
        page = answer.text
        assert answer.status_code == status, page
        assert f"<code>{field}</code>" in page and f"<code>{rule}</code>" in page
    assert browser.get("/ui/", follow_redirects=False).status_code == 303  # still to be changed


def test_a_form_without_the_session_csrf_token_changes_nothing(client: TestClient, team: Recorder) -> None:
    browser = _signed_in_with_the_secret(client, team)
    form = {"csrf": "forged", "old_password": SECRET, "new_password": CHOSEN, "new_password_repeat": CHOSEN}

    answer = browser.post("/ui/password", data=form, follow_redirects=False)

    assert answer.status_code == 403
    assert browser.get("/ui/", follow_redirects=False).headers["location"].startswith("/ui/password")

"""Errors a person understands: the menu kept, "nothing was recorded" said, reading still possible.

A read-only database (a full disk's neighbour: the server can read but not write)
must still let a nurse sign in and read the product she is at; a step she tries to
sign is refused on a page in her language that says nothing was recorded and when to
try again, and the number of stored events is counted on the test's own connection.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from api.rest.app import create_app
from ledger.settings import Settings
from tests.api.test_database_down import _prepare
from tests.api.test_storage_faults import read_only, stored_events
from tests.integration.journeys import password_of

MENU = 'href="/ui/inventory"'


def _signed_in(client: TestClient, username: str) -> TestClient:
    answer = client.post(
        "/ui/sign-in", data={"username": username, "password": password_of(username), "next": "/ui/"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303, answer.text
    return client


def test_an_unknown_page_keeps_the_menu_and_the_session(browser_of: Any) -> None:
    nurse = browser_of("nurse")
    missing = nurse.get("/ui/no-such-page")
    assert missing.status_code == 404
    assert MENU in missing.text and 'id="signed-in-as"' in missing.text
    assert 'id="nothing-recorded"' not in missing.text, "a read records nothing and says nothing about it"


def test_an_unknown_page_without_a_session_shows_no_menu(client: TestClient) -> None:
    missing = client.get("/ui/no-such-page")
    assert missing.status_code == 404 and MENU not in missing.text


def test_a_read_only_database_lets_people_read_and_says_a_refused_step_recorded_nothing(settings: Settings) -> None:
    product = _prepare(settings)
    before = stored_events(settings)
    with read_only(settings) as restricted, TestClient(create_app(restricted)) as client:
        nurse = _signed_in(client, "nurse")
        assert nurse.get("/ui/").status_code == 200
        page = nurse.get(f"/ui/products/{product}")
        assert page.status_code == 200 and 'id="product-coi"' in page.text
        path = f"/ui/products/{product}/steps/AnnotationAdded"
        form = nurse.get(path).text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)  # type: ignore[union-attr]
        new_id = re.search(r'name="new_id" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        refused = nurse.post(
            path,
            data={"csrf": csrf, "new_id": new_id, "text": "x", "meaning": "authored", "password": password_of("nurse")},
        )
        assert refused.status_code == 503, refused.text
        assert "storage_read_only" in refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert 'id="nothing-recorded"' in refused.text and "Rien n&#39;a été enregistré." in refused.text
        assert 'id="retry-after"' in refused.text and MENU in refused.text
    assert stored_events(settings) == before

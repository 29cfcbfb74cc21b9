"""A session that ends while a form is being typed: nothing recorded, what was typed put back after sign-in."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from api.web import drafts
from ledger.service import CustodyLedger
from tests.api.conftest import START, MovableClock, password
from tests.integration.journeys import Recorder, enrolled

NOTE = "Patient anxieux, perfusion décalée de 30 min"


def _draft(page: str) -> str:
    found = re.search(r'name="draft" value="([^"]+)"', page)
    assert found, "the sign-in page carries the sealed form"
    return found.group(1)


def test_the_form_comes_back_after_sign_in_and_nothing_was_recorded(
    browser_of: Any, team: Recorder, clock: MovableClock, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    nurse: TestClient = browser_of("nurse")
    path = f"/ui/products/{journey.product}/steps/AnnotationAdded"
    form = nurse.get(path).text
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form).group(1)  # type: ignore[union-attr]
    new_id = re.search(r'name="new_id" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    size = ledger.store.size()

    clock.advance(timedelta(minutes=ledger.settings.token_minutes, seconds=1))
    sent = nurse.post(
        path,
        data={"csrf": csrf, "new_id": new_id, "text": NOTE, "meaning": "authored", "password": password("nurse")},
        follow_redirects=False,
    )
    assert sent.status_code == 401 and 'id="session-ended"' in sent.text
    assert "rien n&#39;a été enregistré" in sent.text
    assert NOTE not in sent.text and password("nurse") not in sent.text, "sealed: neither the note nor the password"
    assert ledger.store.size() == size, "nothing recorded"

    signed_in = nurse.post(
        "/ui/sign-in",
        data={"username": "nurse", "password": password("nurse"), "next": path, "draft": _draft(sent.text)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == path
    assert drafts.COOKIE in signed_in.headers["set-cookie"] and "httponly" in signed_in.headers["set-cookie"].lower()
    back = nurse.get(path)
    assert 'id="draft-restored"' in back.text and NOTE in back.text
    assert f'name="new_id" value="{new_id}"' in back.text, "the same id: a second send cannot record it twice"
    assert nurse.cookies.get(drafts.COOKIE) is None, "the draft is used once"
    assert 'id="draft-restored"' not in nurse.get(path).text


def test_a_draft_opens_only_on_its_own_form_and_only_unaltered(tmp_path: Any) -> None:
    key = bytes(32)
    sealed = drafts.seal(key, "/ui/products/a/steps/X", {"text": "t", "password": "p", "wristband_id": "w"}, START)
    assert drafts.unseal(key, sealed, "/ui/products/a/steps/X", START) == {"text": "t"}
    assert drafts.unseal(key, sealed, "/ui/products/b/steps/X", START) is None, "another form"
    assert drafts.unseal(bytes([1]) * 32, sealed, "/ui/products/a/steps/X", START) is None, "another key"
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    assert drafts.unseal(key, tampered, "/ui/products/a/steps/X", START) is None
    late = START + timedelta(minutes=drafts.DRAFT_MINUTES, seconds=1)
    assert drafts.unseal(key, sealed, "/ui/products/a/steps/X", late) is None, "expired"
    assert drafts.unseal(key, "not base64 at all!", "/ui/products/a/steps/X", START) is None

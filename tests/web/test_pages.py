"""The web pages people use at the bedside and in the pharmacy: sign-in, worklist, product, step forms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.demo_journeys import UNIT
from api.web.i18n import messages
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.journeys import (
    Recorder,
    enrolled,
    enrolled_outside_any_trial,
    identified,
    released_and_stored,
    thawed,
)

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "web" / "templates"


def csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found, "every signed-in page carries the session's CSRF token"
    return found.group(1)


def test_pages_need_a_session_and_come_back_after_sign_in(client: TestClient) -> None:
    answer = client.get("/ui/?x=1", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/sign-in?next=/ui/%3Fx%3D1"
    wrong = client.post("/ui/sign-in", data={"username": "nurse", "password": "nope", "next": "/ui/"})
    assert wrong.status_code == 401 and 'id="sign-in-error"' in wrong.text
    right = client.post(
        "/ui/sign-in",
        data={"username": "nurse", "password": password("nurse"), "next": "/ui/"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    evil = client.post(
        "/ui/sign-in", data={"username": "nurse", "password": password("nurse"), "next": "https://evil.example/"},
        follow_redirects=False,
    )  # fmt: skip
    assert evil.headers["location"] == "/ui/"


def test_the_worklist_shows_the_products_awaiting_my_step(browser_of: Any, team: Recorder) -> None:
    waiting = enrolled(team, START)
    stored = released_and_stored(team, START, "PSN-TEST-0002")
    nurse = browser_of("nurse").get("/ui/")
    awaiting = nurse.text.split('id="awaiting"')[1].split("</table>")[0]
    assert waiting.coi.value in awaiting and stored.coi.value not in awaiting
    pharmacist = browser_of("pharmacist").get("/ui/").text
    awaiting = pharmacist.split('id="awaiting"')[1].split("</table>")[0]
    assert stored.coi.value in awaiting and "Dispensed" in awaiting


def test_the_product_page_shows_label_status_timeline_and_a_verified_badge(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    client = browser_of("pharmacist")
    client.cookies.set("lang", "en")
    page = client.get(f"/ui/products/{journey.coi.value}").text
    assert journey.coi.value in page and 'id="product-state">stored<' in page
    assert "Chain and signatures verified" in page
    assert page.count("<li data-event=") == len(ledger.history(journey.product)), "one timeline entry per event"
    label = client.get(f"/ui/products/{journey.product}/label.svg")
    assert label.headers["content-type"] == "image/svg+xml" and b"<svg" in label.content
    bundle = client.get(f"/ui/products/{journey.product}/export")
    assert bundle.headers["content-disposition"].startswith("attachment")
    assert bundle.json()["events"]


def test_a_step_is_signed_with_the_password_then_within_the_session_without_it(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = enrolled(team, START)
    client = browser_of("nurse")
    form_page = client.get(f"/ui/products/{journey.product}/steps/AnnotationAdded").text
    assert 'id="signature-password"' in form_page, "first signature: the dialog asks for the password"
    assert "Nina Nurse" in form_page.split('id="sign-name"')[1][:80]
    token = csrf(form_page)
    url = f"/ui/products/{journey.product}/steps/AnnotationAdded"
    refused = client.post(url, data={"csrf": token, "text": "checked", "meaning": "authored"})
    assert refused.status_code == 401 and 'id="problem"' in refused.text
    steps = len(ledger.history(journey.product))
    done = client.post(
        url, data={"csrf": token, "text": "checked", "meaning": "authored", "password": password("nurse")},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303 and done.headers["location"].endswith("?recorded=AnnotationAdded")
    assert len(ledger.history(journey.product)) == steps + 1
    assert ledger.history(journey.product)[-1].body["payload"] == {"text": "checked"}
    assert 'id="signature-password"' not in client.get(url).text, "the signing session is open"


def test_a_scanned_label_of_another_product_is_shown_at_once_then_refused_and_recorded_as_a_near_miss(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    other = enrolled(team, START, "PSN-TEST-0002")
    client = browser_of("pharmacist")
    url = f"/ui/products/{journey.product}/steps/Dispensed"
    token = csrf(client.get(url).text)
    verdict = client.post(f"/ui/products/{journey.product}/check-scan", data={"field": "s", "s": other.coi.value})
    assert 'data-scan="mismatch"' in verdict.text and 'role="alert"' in verdict.text
    assert (
        'data-scan="match"'
        in client.post(f"/ui/products/{journey.product}/check-scan", data={"field": "s", "s": journey.coi.value}).text
    )
    size = ledger.store.size()
    answer = client.post(
        url,
        data={
            "csrf": token, "to_unit": UNIT, "scanned_coi": other.coi.value, "scanned_patient": "PSN-TEST-0001",
            "release_verified": "on", "meaning": "verified", "password": password("pharmacist"),
        },
    )  # fmt: skip
    assert answer.status_code == 409 and "identity_mismatch" in answer.text
    assert ledger.store.size() == size + 1
    assert [e.type for e in ledger.history(journey.product)][-1] == "IdentityMismatchRecorded"
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct) and product.suspended


def test_a_wristband_from_the_next_bed_on_the_bedside_form_is_a_near_miss_as_through_the_api(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = thawed(team, START)
    wristband = identified(ledger)
    client = browser_of("nurse")
    url = f"/ui/products/{journey.product}/steps/BedsideCheckPerformed"
    page = client.get(url).text
    assert 'name="wristband_hospital_number"' in page and 'name="scanned_bag_id"' in page
    size = ledger.store.size()
    answer = client.post(
        url,
        data={
            "csrf": csrf(page), "scanned_coi": journey.coi.value, "scanned_bag_id": journey.bag or "",
            "wristband_hospital_number": "IPP-NEXT-BED", "wristband_birth_date": wristband["wristband_birth_date"],
            "meaning": "performed", "password": password("nurse"),
        },
    )  # fmt: skip
    assert answer.status_code == 409 and "payload.wristband_hospital_number" in answer.text
    assert "IPP-NEXT-BED" not in answer.text and wristband["wristband_hospital_number"] not in answer.text
    assert ledger.store.size() == size + 1
    [near_miss] = ledger.history(journey.product)[-1:]
    assert near_miss.type == "IdentityMismatchRecorded" and near_miss.body["actor"]["user_id"] == "nurse"
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct) and product.suspended


def test_a_forbidden_step_is_a_403_page_and_a_foreign_form_is_refused(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    courier = browser_of("courier")
    page = courier.get(f"/ui/products/{journey.product}/steps/ProductReleased")
    assert page.status_code == 403 and "role_not_allowed" in page.text
    size = ledger.store.size()
    posted = courier.post(f"/ui/products/{journey.product}/steps/ProductReleased", data={"certificate_id": "x"})
    assert posted.status_code == 403
    nurse = browser_of("nurse")
    forged = nurse.post(
        f"/ui/products/{journey.product}/steps/AnnotationAdded",
        data={"csrf": "0" * 64, "text": "x", "meaning": "authored", "password": password("nurse")},
    )
    assert forged.status_code == 403 and "csrf" in forged.text
    assert ledger.store.size() == size


def test_every_text_the_templates_show_has_a_french_translation() -> None:
    asked = set()
    for template in TEMPLATES.glob("*.html"):
        asked |= set(re.findall(r"""t\(["']([^"']+)["']\)""", template.read_text()))
    french = messages("fr")
    missing = sorted(text for text in asked if text not in french)
    assert not missing, f"texts without French: {missing}"


def test_english_and_french(browser_of: Any) -> None:
    client = browser_of("nurse")
    assert "Liste de travail" in client.get("/ui/").text
    client.cookies.set("lang", "en")
    page = client.get("/ui/").text
    assert "Worklist" in page and 'lang="en"' in page


def test_a_sponsor_sees_no_product_outside_its_trials_in_the_web_pages(browser_of: Any, team: Recorder) -> None:
    in_trial = enrolled(team, START)  # the demo trial, whose sponsor user is "sponsor"
    other = enrolled_outside_any_trial(team, START)
    coi, outside = other.coi, other.product
    sponsor = browser_of("sponsor")
    worklist = sponsor.get("/ui/").text
    assert in_trial.coi.value in worklist and coi.value not in worklist
    assert sponsor.get(f"/ui/products/{in_trial.product}").status_code == 200
    assert sponsor.get(f"/ui/products/{outside}").status_code == 404
    assert sponsor.get(f"/ui/products/{outside}/export").status_code == 404

"""Scans, not JSON, on the 800×1280 bedside tablet: a pharmacy receipt made by scanning, a wrong wristband caught live.

The pharmacist receives a shipper by scanning each unit's label into its row (no JSON
to edit): a label of another product is a red alert and the sign button stays
disabled; the right one turns it green and the receipt is signed. At the bedside the
nurse scans the COI, the bag and the wristband: a wristband from the next bed is a red
alert before any signature, the sign button stays disabled, and nothing is recorded;
the right wristband enables signing. Both backends; screenshots kept as artefacts.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from api import demo_journeys as demo
from ledger.service import CustodyLedger
from tests.browser.conftest import STAFF, Artefacts, Desks, Ward, require_browser
from tests.conftest import make_settings
from tests.integration.journeys import IDENTITY, Journey, Recorder, enrolled, identified, thawed

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import Page, ViewportSize, expect  # noqa: E402

RECEIVING = "PSN-BROWSER-0004"
AT_BEDSIDE = "PSN-BROWSER-0005"
TABLET: ViewportSize = {"width": 800, "height": 1280}
_EXTRA = pytest.StashKey[tuple[Journey, Journey]]()


@pytest.fixture
def ward(ward: Ward, request: pytest.FixtureRequest) -> Ward:
    """The common ward, plus a released product in its shipper to the pharmacy and a thawed one at the bedside."""
    schema = request.getfixturevalue("postgres_schema") if ward.backend == "postgresql" else None
    ledger = CustodyLedger(make_settings(ward.backend, ward.home, schema))
    try:
        rec = Recorder(ledger, {username: member[2] for username, member in STAFF.items()})
        now = datetime.now(UTC).replace(microsecond=0)
        journey = enrolled(rec, now - timedelta(days=30), RECEIVING)
        din = f"G1234{now.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
        qc_at = demo.collect_and_manufacture(rec, journey.product, journey.coi, din, now - timedelta(days=29))
        demo.qc(rec, journey.product, qc_at)
        rec("qp", "ProductReleased", journey.product, qc_at + timedelta(hours=2), "released", certificate_id="CoR-7")
        demo.dispatch_to_pharmacy(rec, [(journey.product, journey.coi)], qc_at + timedelta(hours=4))
        identified(ledger, AT_BEDSIDE)
        bedside = thawed(rec, now - timedelta(days=25, hours=2), AT_BEDSIDE)
    finally:
        ledger.close()
    request.node.stash[_EXTRA] = (journey, bedside)
    return ward


def tablet(desks: Desks, username: str) -> Page:
    """The person's page on an 800×1280 tablet, signed in."""
    context = desks.context(STAFF[username][3])
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.set_viewport_size(TABLET)
    desks.contexts[f"{username}-tablet"] = context
    desks.pages[f"{username}-tablet"] = page
    page.goto("/ui/sign-in")
    page.locator("#username").fill(username)
    page.locator("#password").fill(STAFF[username][2])
    page.locator("#password").press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(STAFF[username][0])
    return page


def scan(page: Page, input_id: str, code: str, box: str, verdict: str) -> None:
    """The hand-held scanner types the code, then Enter: the verdict appears in the field's box."""
    page.locator(f"#{input_id}").click()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    expect(page.locator(f"#{box} [data-scan]")).to_have_attribute("data-scan", verdict)


def timeline_length(page: Page) -> int:
    return page.locator("#timeline > li").count()


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_the_pharmacist_receives_the_shipper_by_scanning_each_unit(
    ward: Ward, desks: Desks, artefacts: Artefacts, request: pytest.FixtureRequest
) -> None:
    journey, _ = request.node.stash[_EXTRA]
    coi = journey.coi.value
    page = tablet(desks, "pharmacist")
    page.goto(f"/ui/products/{quote(coi)}")
    expect(page.locator("#product-state")).to_have_attribute("data-state", "in_transit")
    page.locator("#step-links a[href*='/steps/ShipmentReceived']").click()
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("#step-form textarea")).to_have_count(0)  # nothing to type as JSON
    expect(page.locator("input[name='received_units.0.product_id']")).to_have_value(str(journey.product))
    page.locator("#f-site").fill(demo.PHARMACY)
    page.locator("#f-seal_intact").check()
    page.locator("#f-data_logger_reviewed").check()
    page.locator("#f-min_c").fill("-190")
    page.locator("#f-max_c").fill("-172")
    page.locator("#f-excursion_min").fill("0")
    page.locator("#f-certificate_of_release_checked").select_option("true")
    sign = page.locator("#sign-button")
    expect(sign).to_be_disabled()

    unit, box = "f-received_units-0-scanned_coi", "scan-received_units-0-scanned_coi"
    scan(page, unit, ward.other.coi.value, box, "mismatch")
    alarm = page.locator(f"#{box} [data-scan=mismatch]")
    expect(alarm).to_have_attribute("role", "alert")
    expect(alarm).to_have_class(re.compile(r"\bscan-mismatch\b"))
    expect(sign).to_be_disabled()
    artefacts.shot(page, "receipt-wrong-label", full_page=True)

    page.locator(f"#{unit}").fill("")
    scan(page, unit, coi, box, "match")
    expect(sign).to_be_enabled()
    artefacts.shot(page, "receipt-scanned", full_page=True)
    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_visible()
    page.locator("#meaning").select_option("received")
    page.locator("#signature-password").fill(STAFF["pharmacist"][2])
    sign.click()
    expect(page.locator("#recorded")).to_be_visible()
    expect(page.locator("#problem")).to_have_count(0)
    expect(page.locator("#product-state")).to_have_attribute("data-state", "received_at_pharmacy")
    artefacts.shot(page, "receipt-recorded", full_page=True)


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_a_wrong_wristband_is_a_red_alert_before_signing_and_the_sign_button_stays_disabled(
    ward: Ward, desks: Desks, artefacts: Artefacts, request: pytest.FixtureRequest
) -> None:
    _, bedside = request.node.stash[_EXTRA]
    coi, bag = bedside.coi.value, bedside.bag or ""
    page = tablet(desks, "nurse")
    page.goto(f"/ui/products/{quote(coi)}")
    expect(page.locator("#product-state")).to_have_attribute("data-state", "thawed")
    before = timeline_length(page)
    page.locator("#step-links a[href*='/steps/BedsideCheckPerformed']").click()
    expect(page.locator("#step-form")).to_be_visible()
    sign = page.locator("#sign-button")
    expect(sign).to_be_disabled()
    scan(page, "f-scanned_coi", coi, "scan-scanned_coi", "match")
    scan(page, "f-scanned_bag_id", bag, "scan-scanned_bag_id", "match")
    scan(page, "f-wristband_hospital_number", "IPP-NEXT-BED", "scan-wristband", "empty")
    scan(page, "f-wristband_birth_date", "14/03/1979", "scan-wristband", "mismatch")
    alarm = page.locator("#scan-wristband [data-scan=mismatch]")
    expect(alarm).to_be_visible()
    expect(alarm).to_have_attribute("role", "alert")
    expect(alarm).to_contain_text(re.compile("DISCORDANCE|MISMATCH"))
    assert "IPP" not in alarm.inner_text() and IDENTITY.hospital_number not in page.content()
    expect(sign).to_be_disabled()
    artefacts.shot(page, "wrong-wristband", full_page=True)

    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_hidden()
    expect(page.locator("#f-wristband_hospital_number")).to_be_focused()
    page.locator("#signature-dialog").evaluate("dialog => dialog.showModal()")  # past the page's own guard
    expect(sign).to_be_disabled()
    expect(sign).to_have_js_property("disabled", True)  # the button itself, not only what it tells assistive tech
    artefacts.shot(page, "sign-button-disabled")
    page.locator("#signature-dialog").evaluate("dialog => dialog.close()")

    page.goto(f"/ui/products/{quote(coi)}")
    assert timeline_length(page) == before, "a live check records nothing: no near miss, no step"
    expect(page.locator("#product-state")).to_have_attribute("data-state", "thawed")
    page.locator("#step-links a[href*='/steps/BedsideCheckPerformed']").click()
    expect(page.locator("#step-form")).to_be_visible()
    scan(page, "f-scanned_coi", coi, "scan-scanned_coi", "match")
    scan(page, "f-scanned_bag_id", bag, "scan-scanned_bag_id", "match")
    scan(page, "f-wristband_hospital_number", IDENTITY.hospital_number, "scan-wristband", "empty")
    scan(page, "f-wristband_birth_date", IDENTITY.birth_date, "scan-wristband", "match")
    expect(sign).to_be_enabled()
    artefacts.shot(page, "right-wristband", full_page=True)

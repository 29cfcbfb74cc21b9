"""Deadlines that shout, in a real browser, at the 1366×900 desk and on the 800×1280 bedside tablet, in French.

Two products of the ward are thawed on the unit at chosen moments before the test reads the page: one
50 minutes ago (ACADEMIC-CD19: infuse within 60 minutes of thaw completion, so 10 minutes are left, amber
from 15 to 5 minutes left), the other 75 minutes ago (15 minutes past its deadline). The stored product is
quarantined. The nurse's worklist must show the amber row and the red row, each with its word ("bientôt",
"dépassé") beside the colour, the most urgent first, the quarantined product with its red banner; scanning a
COI into the search box (a scanner types it, then Enter) opens that product's page. Both backends; axe finds no
violation on the worklist. Screenshots are kept as artefacts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from ledger.service import CustodyLedger
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import STAFF, Artefacts, Desks, Ward, require_browser
from tests.conftest import make_settings
from tests.integration.journeys import Journey, Recorder, thawed

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import Page, ViewportSize, expect  # noqa: E402

DESK: ViewportSize = {"width": 1366, "height": 900}
TABLET: ViewportSize = {"width": 800, "height": 1280}
AMBER_BACKGROUND = "rgb(255, 244, 214)"  # worklist.css: tr.deadline-amber
RED_BACKGROUND = "rgb(253, 232, 236)"  # worklist.css: tr.deadline-red, tr.deadline-overdue
HOLD_RED = "rgb(176, 0, 32)"  # app.css: --bad


def ledger_of(ward: Ward) -> CustodyLedger:
    """The ward's store, opened beside the server (as a second workstation would be)."""
    schema = ward.database_url.split("schema=", 1)[1] if ward.database_url else None
    return CustodyLedger(make_settings(ward.backend, ward.home, schema))


def thawed_ago(rec: Recorder, minutes: int, pseudonym: str) -> Journey:
    """A product stored, dispensed and thawed so that its thaw completed ``minutes`` ago (journeys.thawed's times)."""
    done = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes)
    return thawed(rec, done - timedelta(days=25, hours=1, minutes=4), pseudonym)


@pytest.fixture
def on_the_unit(ward: Ward) -> dict[str, Journey]:
    """Amber: thawed 50 min ago; overdue: thawed 75 min ago; the ward's stored product quarantined."""
    ledger = ledger_of(ward)
    try:
        rec = Recorder(ledger, {username: member[2] for username, member in STAFF.items()})
        late = thawed_ago(rec, 75, "PSN-BROWSER-0011")
        soon = thawed_ago(rec, 50, "PSN-BROWSER-0012")
        rec(
            "pharmacist", "ProductQuarantined", ward.stored.product, datetime.now(UTC).replace(microsecond=0),
            "recorded", reason="alarme de la cuve LN2",
        )  # fmt: skip
    finally:
        ledger.close()
    return {"soon": soon, "late": late}


def nurse_at(desks: Desks, viewport: ViewportSize) -> Page:
    """The nurse's page in French at the viewport of the test, signed in through the form (kept by ``desks``)."""
    name, _, password, _ = STAFF["nurse"]
    context = desks.context("fr-FR")
    page = context.new_page()
    desks.contexts["nurse"], desks.pages["nurse"] = context, page
    page.set_viewport_size(viewport)
    page.goto("/ui/sign-in")
    page.locator("#username").fill("nurse")
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(name)
    return page


@pytest.mark.parametrize("viewport", [DESK, TABLET], ids=["desk-1366x900", "tablet-800x1280"])
@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_amber_and_red_deadlines_a_hold_banner_and_a_scan_that_opens_the_product(
    on_the_unit: dict[str, Journey], ward: Ward, server: object, desks: Desks, artefacts: Artefacts,
    viewport: ViewportSize,
) -> None:  # fmt: skip
    soon, late = on_the_unit["soon"], on_the_unit["late"]
    page = nurse_at(desks, viewport)
    page.goto("/ui/")
    awaiting = page.locator("#awaiting tbody tr")
    expect(awaiting.nth(0)).to_contain_text(late.coi.value)  # the most urgent first: 15 min past its deadline
    expect(awaiting.nth(1)).to_contain_text(soon.coi.value)
    late_row, soon_row = awaiting.nth(0), awaiting.nth(1)
    expect(late_row).to_have_class(re.compile(r"\bdeadline-overdue\b"))
    expect(late_row.locator(".deadline-level")).to_have_text("dépassé")
    expect(late_row.locator(".deadline-left")).to_have_text(re.compile(r"^dépassé depuis 1[5-9] min$"))
    expect(late_row).to_have_css("background-color", RED_BACKGROUND)
    expect(soon_row).to_have_class(re.compile(r"\bdeadline-amber\b"))
    expect(soon_row.locator(".deadline-level")).to_have_text("bientôt")
    expect(soon_row.locator(".deadline-left")).to_have_text(re.compile(r"^reste ([5-9]|10) min$"))  # amber to 5
    expect(soon_row.locator("time")).to_contain_text("expire le")
    expect(soon_row).to_have_css("background-color", AMBER_BACKGROUND)
    for row in (late_row, soon_row):
        expect(row.locator(".deadline-level")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling
    held = page.locator(f"#other-products li:has(a:text-is('{ward.stored.coi.value}'))")
    expect(held.locator(".hold-banner")).to_contain_text("Produit en quarantaine")
    expect(held.locator(".hold-banner")).to_contain_text("alarme de la cuve LN2")
    expect(held.locator(".hold-banner")).to_have_css("background-color", HOLD_RED)
    artefacts.shot(page, f"worklist-{viewport['width']}", full_page=True)
    assert_accessible(page, "the worklist with running deadlines and a hold")

    search = page.locator("#q")
    expect(search).to_be_focused()  # a scanner types into the box as soon as the page opens
    search.fill(soon.coi.value)
    search.press("Enter")
    page.wait_for_url(f"**/ui/products/{soon.product}")
    expect(page.locator("#product-coi")).to_have_text(soon.coi.value)
    expect(page.locator("#product-deadlines .deadline-level")).to_have_text("bientôt")
    artefacts.shot(page, f"scanned-{viewport['width']}")

    page.goto(f"/ui/products/{ward.stored.product}")
    banner = page.locator("#hold-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Produit en quarantaine")
    box = banner.bounding_box()
    assert box is not None and box["y"] < viewport["height"]  # at the top: seen without scrolling
    artefacts.shot(page, f"hold-banner-{viewport['width']}")

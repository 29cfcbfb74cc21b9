"""The worklist stays live in a real browser: another person's step appears on the nurse's open worklist without
her reloading it, and a deadline alert shows its banner, in French, at the 1366×900 desk and on the 800×1280
bedside tablet.

The nurse opens her worklist and types into the search box; then, from another workstation (the ledger opened
beside the server), a physician enrols a product (whose next step, the collection, is the nurse's) and the
pharmacy dispenses and thaws another so that its thaw completed 46 minutes ago (ACADEMIC-CD19: infuse within 60
minutes; amber from 15 minutes left), and the deadline scan runs. The new rows and the amber banner must appear
on the open page, the page never reloaded (a mark set in it survives) and the text typed in the search box kept.
Both backends. Screenshots are kept as artefacts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from api.deadline_scan import scan
from tests.browser.conftest import STAFF, Artefacts, Desks, Ward, require_browser
from tests.browser.test_worklist_deadlines import DESK, TABLET, ledger_of, nurse_at, thawed_ago
from tests.integration.journeys import Recorder, enrolled

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import ViewportSize, expect  # noqa: E402

LIVE_SECONDS_MS = 10_000  # pushed within a second; generous for a loaded runner


@pytest.mark.parametrize("viewport", [DESK, TABLET], ids=["desk-1366x900", "tablet-800x1280"])
@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_another_person_s_step_and_an_alert_appear_without_reloading(
    ward: Ward, server: object, desks: Desks, artefacts: Artefacts, viewport: ViewportSize
) -> None:
    page = nurse_at(desks, viewport)
    page.goto("/ui/")
    expect(page.locator("#live-alerts")).to_be_attached()
    page.evaluate("window.__stillTheSamePage = true")
    page.locator("#q").fill("PSN-BR")  # typed, not submitted: the live update must keep it
    artefacts.shot(page, f"before-{viewport['width']}")

    ledger = ledger_of(ward)
    try:
        rec = Recorder(ledger, {username: member[2] for username, member in STAFF.items()})
        arriving = enrolled(rec, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5), "PSN-BROWSER-0021")
        new_row = page.locator(f"#awaiting tr[data-product='{arriving.product}']")
        expect(new_row).to_be_visible(timeout=LIVE_SECONDS_MS)
        expect(new_row).to_contain_text(arriving.coi.value)
        thawing = thawed_ago(rec, 46, "PSN-BROWSER-0022")
        scan(ledger)  # or the server's own scan got there first: the alert is raised once either way
    finally:
        ledger.close()

    banner = page.locator(f"#live-alerts .live-alert[data-product='{thawing.product}']")
    expect(banner).to_be_visible(timeout=LIVE_SECONDS_MS)
    expect(banner).to_have_count(1)
    expect(banner).to_have_attribute("data-alert-level", "amber")
    expect(banner).to_contain_text("Alerte d'échéance")
    expect(banner).to_contain_text(thawing.coi.value)
    expect(banner.locator(".deadline-level")).to_have_text("bientôt")
    thawed_row = page.locator(f"#awaiting tr[data-product='{thawing.product}']")
    expect(thawed_row).to_have_class(re.compile(r"\bdeadline-amber\b"), timeout=LIVE_SECONDS_MS)
    assert page.evaluate("window.__stillTheSamePage === true"), "the page was not reloaded"
    expect(page.locator("#q")).to_have_value("PSN-BR")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # no sideways scrolling
    artefacts.shot(page, f"live-{viewport['width']}", full_page=True)

    banner.locator("[data-dismiss-alert]").click()
    expect(banner).to_have_count(0)

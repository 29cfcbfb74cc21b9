"""The audit trail in Chromium at a desk (1366×900): an auditor filters by a scanned COI and downloads the CSV."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest

from tests.browser.conftest import Artefacts, Desks, Ward, as_user, require_browser

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import expect  # noqa: E402

# The stored product's history as tests.integration.journeys.released_and_stored records it.
STORED_HISTORY = [
    ("ProductEnrolled", "Dr Paul Physician"),
    ("ApheresisCollected", "Nina Nurse"),
    ("ProductShipped", "Carl Courier"),
    ("ProductReceived", "Quentin Qp"),
    ("ManufacturingStarted", "Quentin Qp"),
    ("ManufacturingCompleted", "Quentin Qp"),
    ("QcResultsRecorded", "Quinn Qc"),
    ("ProductReleased", "Quentin Qp"),
    ("ProductShipped", "Carl Courier"),
    ("ProductReceived", "Phil Pharmacist"),
    ("StoredInLN2", "Phil Pharmacist"),
]


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_audit_trail_filtered_by_coi_and_downloaded_as_csv(ward: Ward, desks: Desks, artefacts: Artefacts) -> None:
    """An auditor at a 1366×900 desk, in French, narrows the trail to one COI, reads the verdicts, downloads it."""
    context = desks.browser.new_context(
        base_url=desks.base_url, locale="en-GB", timezone_id="Europe/Paris", viewport={"width": 1366, "height": 900}
    )
    desks.contexts["auditor-desk"] = context
    page = as_user(context.new_page(), "auditor")  # the auditor's workstation is in English (tests/browser/conftest)
    desks.pages["auditor-desk"] = page
    page.goto("/ui/audit")
    page.locator("a[href='/ui/lang/fr']").click()  # a French inspector: the FR switch
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.locator("#tab-trail").click()
    expect(page.locator("h1")).to_have_text("Piste d’audit")
    coi = ward.stored.coi.value
    page.locator("#trail-product").fill(coi)
    page.locator("#trail-apply").click()
    expect(page.locator("#trail-result-title")).to_have_text(f"{len(STORED_HISTORY)} événements correspondants")
    rows = page.locator("#trail-table tbody tr")
    expect(rows).to_have_count(len(STORED_HISTORY))
    assert f"product={quote(coi)}&" in page.url, "the filter travels in the address: a COI, no identity"
    shown = [
        (
            row.locator(".event-type").get_attribute("data-type"),
            row.locator(".manifestation").inner_text().split(" (")[0],
        )
        for row in rows.all()
    ]
    assert shown == STORED_HISTORY
    for row in rows.all():
        expect(row.locator("td").nth(3)).to_contain_text(coi)
        expect(row.locator(".verdict")).to_have_attribute("data-signature", "valid")
        expect(row.locator(".verdict")).to_have_attribute("data-link", "ok")
    expect(rows.first.locator(".verdict")).to_contain_text("signature valide")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"the trail fits the desk's width ({width} px)"
    artefacts.shot(page, "trail-filtered-by-coi", full_page=True)

    with page.expect_download() as download:
        page.locator("#trail-csv").click()
    saved = artefacts.folder / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("audit-trail-") and saved.suffix == ".csv"
    table = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert table[0][:4] == ["log_position", "recorded_at", "occurred_at", "event_type"]
    assert [(line[3], line[9]) for line in table[1:]] == STORED_HISTORY
    assert all(line[6] == coi for line in table[1:])

"""Before the irreversible thaw, on an 800×1280 bedside tablet in French: the product page says infusion would be
refused and why, with the physician's override form one tap away; the thaw form will not open the signature dialog
until the nurse ticks "I thaw knowing…", and the signed thaw keeps the reasons she acknowledged (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api import demo_journeys as demo
from ledger.service import CustodyLedger
from tests.browser.conftest import STAFF, STORED_PATIENT, Artefacts, Desks, Ward, require_browser
from tests.conftest import make_settings
from tests.integration.journeys import Recorder

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import Page, ViewportSize, expect  # noqa: E402

TABLET: ViewportSize = {"width": 800, "height": 1280}


def ledger_of(ward: Ward) -> CustodyLedger:
    """The ward's store, opened beside the running server (as a second workstation would be)."""
    schema = ward.database_url.split("schema=", 1)[1] if ward.database_url else None
    return CustodyLedger(make_settings(ward.backend, ward.home, schema))


@pytest.fixture
def on_the_unit(ward: Ward) -> Ward:
    """The stored product dispensed to the unit an hour ago; its patient's lymphodepletion is not recorded."""
    ledger = ledger_of(ward)
    try:
        rec = Recorder(ledger, {username: member[2] for username, member in STAFF.items()})
        rec(
            "pharmacist", "Dispensed", ward.stored.product, datetime.now(UTC) - timedelta(hours=1), "verified",
            to_unit=demo.UNIT, scanned_coi=ward.stored.coi.value, scanned_patient=STORED_PATIENT,
            release_verified=True,
        )  # fmt: skip
    finally:
        ledger.close()
    return ward


def on_tablet(desks: Desks, user: str) -> Page:
    """A bedside tablet in French, signed in as ``user`` through the sign-in form (kept by ``desks`` for cleanup)."""
    name, _, password, _ = STAFF[user]
    context = desks.context("fr-FR")
    page = context.new_page()
    desks.contexts[user], desks.pages[user] = context, page
    page.set_viewport_size(TABLET)
    page.goto("/ui/sign-in")
    page.locator("#username").fill(user)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(name)
    return page


def fits_the_screen(page: Page) -> None:
    """Nothing wider than the tablet: a reason cut off at the right edge is a reason not read."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"the page is {width} px wide on an {TABLET['width']} px tablet"


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_the_product_page_shows_the_blockers_and_links_the_physicians_override(
    ward: Ward, desks: Desks, artefacts: Artefacts
) -> None:
    page = on_tablet(desks, "physician")
    page.goto(f"/ui/products/{ward.stored.product}")
    section = page.locator("#infusion-readiness")
    expect(section).to_be_visible()
    expect(section).to_have_attribute("data-blockers", "lymphodepletion_missing")
    expect(section.locator("h2")).to_contain_text("La perfusion ne serait pas permise maintenant")
    expect(section.locator("li[data-rule=lymphodepletion_missing]")).to_contain_text("Aucune lymphodéplétion")
    override = section.locator("a.remedy[data-step=LymphodepletionOverrideRecorded]")
    expect(override).to_be_visible()
    fits_the_screen(page)
    section.scroll_into_view_if_needed()
    artefacts.shot(page, "physician-sees-blockers")

    override.click()
    expect(page.locator("h1")).to_have_attribute("data-step", "LymphodepletionOverrideRecorded")
    expect(page.locator("#step-form")).to_be_visible()
    artefacts.shot(page, "override-form")

    nurse = on_tablet(desks, "nurse")
    nurse.goto(f"/ui/products/{ward.stored.product}")
    remedy = nurse.locator("#infusion-readiness .remedy[data-step=LymphodepletionOverrideRecorded]")
    expect(remedy).to_contain_text("enregistré par médecin")  # who records it, since the nurse does not
    expect(nurse.locator("#infusion-readiness a.remedy[data-step=LymphodepletionOverrideRecorded]")).to_have_count(0)


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_the_thaw_form_requires_the_confirmation_and_the_signed_thaw_keeps_it(
    on_the_unit: Ward, desks: Desks, artefacts: Artefacts
) -> None:
    ward = on_the_unit
    page = on_tablet(desks, "nurse")
    page.goto(f"/ui/products/{ward.stored.product}")
    page.locator("#step-links a[href$='/steps/Thawed']").click()
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("#infusion-readiness")).to_have_attribute("data-blockers", "lymphodepletion_missing")
    tick = page.locator("#acknowledge-blockers")
    expect(tick).to_be_visible()
    expect(tick).not_to_be_checked()
    expect(page.locator("label[for=acknowledge-blockers]")).to_contain_text(
        "Je décongèle en sachant que la perfusion n'est pas permise maintenant"
    )
    page.locator("#f-method").select_option("dry_thawer")
    bag = page.locator("#f-bag_id")
    bag.click()
    page.keyboard.type(f"LOT-{ward.stored.coi.sequence}-B1")
    page.keyboard.press("Enter")
    expect(page.locator(f"#{bag.get_attribute('data-box')} [data-scan]")).to_have_attribute("data-scan", "match")
    fits_the_screen(page)

    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_hidden()  # not without the deliberate tick
    assert tick.evaluate("box => box.validity.valueMissing"), "the tick is required"
    artefacts.shot(page, "thaw-waits-for-the-tick")

    tick.check()
    artefacts.shot(page, "thaw-ticked")
    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_visible()
    page.locator("#meaning").select_option("performed")
    page.locator("#signature-password").fill(STAFF["nurse"][2])
    page.locator("#sign-button").click()
    expect(page.locator("#recorded")).to_be_visible()
    expect(page.locator("#product-state")).to_have_attribute("data-state", "thawed")
    expect(page.locator("#timeline > li").last).to_have_attribute("data-event", "Thawed")
    artefacts.shot(page, "thawed-knowing")

    ledger = ledger_of(ward)
    try:
        [thawed] = [event for event in ledger.history(ward.stored.product) if event.type == "Thawed"]
    finally:
        ledger.close()
    assert thawed.body["payload"]["infusion_blockers_acknowledged"] == ["lymphodepletion_missing"]
    assert thawed.body["actor"]["user_id"] == "nurse"

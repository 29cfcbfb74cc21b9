"""Every page, for each kind of person, at the desk and at the bedside: axe-core finds nothing moderate or worse.

The pages are the ones people reach from the menu and the product page, plus the sign-in
page (also after a lockout), a step form with its signature dialog open, the printable
label, the audit trail, a trial's sites, the thaw form with its blockers, the pharmacy
receipt form with its scan rows, and the error pages (403, 404, 409). Markup does not
depend on the store, so these run on SQLite; the storage-dependent browser tests run
on both backends and check every screenshot they keep with axe too (``Artefacts.shot``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from api import demo_journeys as demo
from api import demo_pathway, demo_trial_sites
from ledger.service import CustodyLedger
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import STAFF, STORED_PATIENT, Artefacts, Desks, Ward, require_browser
from tests.conftest import make_settings
from tests.integration.journeys import Journey, Recorder, enrolled, password_of, register_qualified

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import Page, ViewportSize, expect  # noqa: E402

DESK: ViewportSize = {"width": 1366, "height": 900}
BEDSIDE: ViewportSize = {"width": 800, "height": 1280}
VIEWPORTS = pytest.mark.parametrize("viewport", [DESK, BEDSIDE], ids=["desk", "bedside"])
RECEIVING = "PSN-BROWSER-0006"
OUT_OF_SPEC = "PSN-BROWSER-0007"


@pytest.mark.parametrize("viewport", [DESK, BEDSIDE], ids=["desk", "bedside"])
def test_the_sign_in_page(desks: Desks, viewport: ViewportSize, artefacts: Artefacts) -> None:
    page = desks.context().new_page()
    page.set_viewport_size(viewport)
    page.goto("/ui/sign-in")
    artefacts.shot(page, "sign-in")
    page.locator("#username").fill("nurse")
    page.locator("#password").fill("wrong password")
    page.locator("#password").press("Enter")
    expect(page.locator("#sign-in-error")).to_be_visible()
    artefacts.shot(page, "sign-in-refused")


@pytest.mark.parametrize("username", ["nurse", "pharmacist", "qp", "auditor"])
@pytest.mark.parametrize("viewport", [DESK, BEDSIDE], ids=["desk", "bedside"])
def test_every_page_a_person_reaches(
    ward: Ward, desks: Desks, username: str, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    page = desks(username)
    page.set_viewport_size(viewport)
    product = ward.stored.product
    for path in (
        "/ui/",
        "/ui/inventory",
        "/ui/audit",
        "/ui/metrics",
        f"/ui/products/{product}",
        f"/ui/patients/{STORED_PATIENT}",
        f"/ui/products/{product}/label",
        "/ui/audit/trail",
        "/ui/password",
        "/ui/no-such-page",
    ):
        page.goto(path)
        assert_accessible(page, f"{username} at {path}")
    artefacts.shot(page, "last-page")


@pytest.mark.parametrize("viewport", [DESK, BEDSIDE], ids=["desk", "bedside"])
def test_a_step_form_and_its_signature_dialog(
    ward: Ward, desks: Desks, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    page = desks("nurse")
    page.set_viewport_size(viewport)
    page.goto(f"/ui/products/{ward.stored.product}/steps/AnnotationAdded")
    artefacts.shot(page, "step-form")
    page.locator("#f-text").fill("Une annotation")
    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_visible()
    artefacts.shot(page, "signature-dialog")


# -- the pages the menu does not list ---------------------------------------------------------------


def ledger_of(ward: Ward) -> CustodyLedger:
    """The ward's store, opened beside the running server (as a second workstation would be)."""
    schema = ward.database_url.split("schema=", 1)[1] if ward.database_url else None
    return CustodyLedger(make_settings(ward.backend, ward.home, schema))


def recorder(ledger: CustodyLedger) -> Recorder:
    return Recorder(ledger, {username: member[2] for username, member in STAFF.items()})


def visit(desks: Desks, username: str, viewport: ViewportSize, path: str, status: int) -> Page:
    """The person's page at ``path``, answered with ``status`` (an error page is a page too)."""
    page = desks(username)
    page.set_viewport_size(viewport)
    answer = page.goto(path)
    assert answer is not None and answer.status == status, f"{path} answered {answer and answer.status}"
    return page


@VIEWPORTS
def test_the_audit_trail_filtered_by_event_type(
    ward: Ward, desks: Desks, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    page = visit(desks, "pharmacist", viewport, "/ui/audit/trail?event_type=StoredInLN2", 200)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#trail-table tbody tr").first.locator(".event-type")).to_have_attribute(
        "data-type", "StoredInLN2"
    )
    artefacts.shot(page, "audit-trail-filtered", full_page=True)


@pytest.fixture
def unready_site(ward: Ward) -> str:
    """The demo trial with a second hospital still missing its GMO authorisation: a red row on the page."""
    ledger = ledger_of(ward)
    try:
        register_qualified(ledger, "sponsor", "Sam Sponsor", "sponsor", password_of("sponsor"))
        rec = recorder(ledger)
        rec.passwords["sponsor"] = password_of("sponsor")
        refused = demo_trial_sites.record_unready_site(
            rec, demo_pathway.TRIAL_PROTOCOL, datetime.now(UTC).replace(microsecond=0), STORED_PATIENT
        )
    finally:
        ledger.close()
    assert len(refused) == 2, refused  # activation and enrolment refused: the site is shown as not ready
    return demo_trial_sites.UNREADY_SITE


@VIEWPORTS
def test_a_trials_sites_with_one_not_ready(
    unready_site: str, desks: Desks, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    page = visit(desks, "nurse", viewport, f"/ui/trials/{demo_pathway.TRIAL_PROTOCOL}/sites", 200)
    site = page.locator(f"section.trial-site[data-site='{unready_site}']")
    expect(site).to_contain_text("pas prêt")
    expect(site.locator("tr[data-prerequisite=gmo_authorisation]")).to_have_class("prerequisite-missing")
    artefacts.shot(page, "trial-sites", full_page=True)


@pytest.fixture
def on_the_unit(ward: Ward) -> Ward:
    """The stored product dispensed to the unit an hour ago; its patient's lymphodepletion is not recorded."""
    ledger = ledger_of(ward)
    try:
        recorder(ledger)(
            "pharmacist", "Dispensed", ward.stored.product, datetime.now(UTC) - timedelta(hours=1), "verified",
            to_unit=demo.UNIT, scanned_coi=ward.stored.coi.value, scanned_patient=STORED_PATIENT,
            release_verified=True,
        )  # fmt: skip
    finally:
        ledger.close()
    return ward


@VIEWPORTS
def test_the_thaw_form_with_its_blockers(
    on_the_unit: Ward, desks: Desks, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    page = visit(desks, "nurse", viewport, f"/ui/products/{on_the_unit.stored.product}/steps/Thawed", 200)
    expect(page.locator("#infusion-readiness")).to_have_attribute("data-blockers", "lymphodepletion_missing")
    expect(page.locator("label[for=acknowledge-blockers]")).to_be_visible()
    artefacts.shot(page, "thaw-blockers", full_page=True)
    page.locator("#continue-to-signature").click()  # the tick is required: the browser says so, still accessible
    expect(page.locator("#signature-dialog")).to_be_hidden()
    assert_accessible(page, "thaw form refused without the tick")
    page.locator("#acknowledge-blockers").check()
    page.locator("#f-method").select_option("dry_thawer")
    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_visible()
    artefacts.shot(page, "thaw-signature-dialog")


@pytest.fixture
def in_transit(ward: Ward) -> Journey:
    """A released product in its shipper to the pharmacy, awaiting receipt."""
    ledger = ledger_of(ward)
    try:
        rec = recorder(ledger)
        now = datetime.now(UTC).replace(microsecond=0)
        journey = enrolled(rec, now - timedelta(days=30), RECEIVING)
        din = f"G1234{now.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
        qc_at = demo.collect_and_manufacture(rec, journey.product, journey.coi, din, now - timedelta(days=29))
        demo.qc(rec, journey.product, qc_at)
        rec("qp", "ProductReleased", journey.product, qc_at + timedelta(hours=2), "released", certificate_id="CoR-9")
        demo.dispatch_to_pharmacy(rec, [(journey.product, journey.coi)], qc_at + timedelta(hours=4))
    finally:
        ledger.close()
    return journey


@VIEWPORTS
def test_the_pharmacy_receipt_form_and_its_scan_rows(
    ward: Ward, in_transit: Journey, desks: Desks, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    page = visit(desks, "pharmacist", viewport, f"/ui/products/{in_transit.product}", 200)
    page.locator("#step-links a[href*='/steps/ShipmentReceived']").click()  # the shipment's step, for this product
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("input[name='received_units.0.product_id']")).to_have_value(str(in_transit.product))
    artefacts.shot(page, "receipt-form", full_page=True)
    unit, box = "#f-received_units-0-scanned_coi", "#scan-received_units-0-scanned_coi"
    for code, verdict in ((ward.other.coi.value, "mismatch"), (in_transit.coi.value, "match")):
        page.locator(unit).fill(code)
        page.locator(unit).press("Enter")
        expect(page.locator(f"{box} [data-scan]")).to_have_attribute("data-scan", verdict)
        artefacts.shot(page, f"receipt-scan-{verdict}", full_page=True)


@VIEWPORTS
def test_the_403_and_409_pages(ward: Ward, desks: Desks, viewport: ViewportSize, artefacts: Artefacts) -> None:
    product = ward.stored.product
    page = visit(desks, "nurse", viewport, f"/ui/products/{product}/steps/ProductReleased", 403)
    expect(page.locator("#problem")).to_contain_text("role_not_allowed")
    expect(page.locator("#signed-in-as")).to_be_visible()  # the navigation is kept
    artefacts.shot(page, "error-403")
    page = visit(desks, "qp", viewport, f"/ui/products/{product}/steps/ExceptionalReleaseApproved", 409)
    expect(page.locator("#problem")).to_contain_text("no_pending_request")
    artefacts.shot(page, "error-409")


@VIEWPORTS
def test_the_sign_in_page_after_a_lockout(desks: Desks, viewport: ViewportSize, artefacts: Artefacts) -> None:
    context = desks.context("fr-FR")
    desks.contexts["locked-out"] = context
    page = desks.pages["locked-out"] = context.new_page()
    page.set_viewport_size(viewport)
    page.goto("/ui/sign-in")
    for _ in range(5):  # the default limit of failed sign-ins in a row (login_max_failures)
        page.locator("#username").fill("nurse")
        page.locator("#password").fill("wrong password")
        with page.expect_navigation():
            page.locator("#password").press("Enter")
    expect(page.locator("#sign-in-error")).to_contain_text("la connexion est bloquée jusqu'à")
    artefacts.shot(page, "sign-in-locked-out")


@pytest.fixture
def out_of_specification(ward: Ward) -> Journey:
    """A product whose viability failed QC (61 % against ≥ 80 %): a decision for the physician, then the QP."""
    ledger = ledger_of(ward)
    try:
        rec = recorder(ledger)
        now = datetime.now(UTC).replace(microsecond=0)
        journey = enrolled(rec, now - timedelta(days=20), OUT_OF_SPEC)
        din = f"G1234{now.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
        qc_at = demo.collect_and_manufacture(rec, journey.product, journey.coi, din, now - timedelta(days=19))
        demo.qc(rec, journey.product, qc_at, viability=61)
    finally:
        ledger.close()
    return journey


@VIEWPORTS
def test_the_exceptional_release_forms_with_the_qc_results(
    ward: Ward, out_of_specification: Journey, desks: Desks, viewport: ViewportSize, artefacts: Artefacts
) -> None:
    product = out_of_specification.product
    page = visit(desks, "physician", viewport, f"/ui/products/{product}", 200)
    expect(page.locator("#qc-table tr[data-test=viability]")).to_contain_text("61")
    artefacts.shot(page, "out-of-specification", full_page=True)
    page = visit(desks, "physician", viewport, f"/ui/products/{product}/steps/ExceptionalReleaseRequested", 200)
    expect(page.locator("#qc-table")).to_be_visible()
    artefacts.shot(page, "exceptional-release-request", full_page=True)
    ledger = ledger_of(ward)
    try:
        recorder(ledger)(
            "physician", "ExceptionalReleaseRequested", product, datetime.now(UTC),
            "requested", reason="no alternative: the patient's disease is progressing", risk_assessment_ref="RA-7",
        )  # fmt: skip
    finally:
        ledger.close()
    page = visit(desks, "qp", viewport, f"/ui/products/{product}/steps/ExceptionalReleaseApproved", 200)
    expect(page.locator("#step-form")).to_be_visible()
    expect(page.locator("#qc-table tr[data-test=viability]")).to_contain_text("61")
    artefacts.shot(page, "exceptional-release-approval", full_page=True)

"""A CAR-T product from collection to infusion, recorded in a real browser by the people who do each step.

Every step goes the way a person at a bedside, a courier's van or a pharmacy bench
would take it: the worklist, the product page, the step's link, the form (filled
with the demo journey's real values), the scanned label (the scanner types the
COI then Enter), and the signature dialog, which must show the printed name, the
date and time and the meaning, and ask for the password at the first signature of
a session only. Then the label mismatch a scanner catches before the signature (and
the server records as a near miss if the form is forced through), and a step a role
may not record. Screenshots are kept as artefacts.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from api import demo_journeys as demo
from tests.browser.conftest import (
    OTHER_PATIENT,
    PATIENT,
    STAFF,
    STORED_PATIENT,
    Artefacts,
    Desks,
    Ward,
    as_user,
    require_browser,
)
from tests.integration.journeys import IDENTITY

require_browser()  # skip (or, with CI=true, fail) before playwright is imported

from playwright.sync_api import Page, expect  # noqa: E402

Value = str | bool
FORM_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d$")
SHOWN_DATE_TIME = re.compile(r"20\d\d.*\d{1,2}:\d\d")
FRENCH_ROLES = {"nurse": "infirmier", "physician": "médecin", "pharmacist": "pharmacien"}
"""The hospital's roles as its French pages name them (written out here, never read from the catalogue)."""


def timeline_length(page: Page) -> int:
    """Events shown in the product page's timeline."""
    return page.locator("#timeline > li").count()


def open_from_worklist(page: Page, coi: str) -> None:
    """The worklist lists the product as awaiting this person's step; open it."""
    page.goto("/ui/")
    link = page.locator("#awaiting a", has_text=coi)
    expect(link).to_have_count(1)
    link.click()
    expect(page.locator("#product-coi")).to_have_text(coi)
    page.wait_for_load_state()  # the heading can show before the timeline below it is parsed, on a loaded machine


def open_step(page: Page, href_part: str) -> None:
    """Follow the product page's link to a step form."""
    link = page.locator(f"#step-links a[href*='{href_part}']")
    expect(link).to_have_count(1)
    link.click()
    expect(page.locator("#step-form")).to_be_visible()


def fill(page: Page, values: dict[str, Value]) -> None:
    """Type each value into its input (found by id; every input has its label)."""
    unlabelled = page.locator("#step-form").evaluate(
        "form => Array.from(form.querySelectorAll('[id^=f-]'))"
        ".filter(box => !form.querySelector(`label[for='${box.id}']`)).map(box => box.id)"
    )
    assert unlabelled == [], f"inputs without a label: {unlabelled}"
    for name, value in values.items():
        box = page.locator(f"#f-{name}")
        select = box.evaluate("element => element.tagName") == "SELECT"
        if isinstance(value, bool) and select:  # an optional yes/no the ledger could derive: a three-way choice
            box.select_option("true" if value else "false")
        elif isinstance(value, bool):
            box.set_checked(value)
        elif select:
            box.select_option(value)
        else:
            box.fill(value)


def scan(page: Page, name: str, coi: str, verdict: str = "match") -> None:
    """The hand-held scanner types the label's characters, then Enter; htmx shows the verdict in the field's box."""
    field = page.locator(f"#f-{name}")
    field.click()
    page.keyboard.type(coi)
    page.keyboard.press("Enter")
    box = field.get_attribute("data-box")
    expect(page.locator(f"#{box} [data-scan]")).to_have_attribute("data-scan", verdict)


def scan_into_receipt(page: Page, product_id: str, coi: str) -> None:
    """The received units come prefilled from the shipment, one row each; the receiver scans each unit's label."""
    expect(page.locator("input[name='received_units.0.product_id']")).to_have_value(product_id)
    expect(page.locator("input[name='received_units.1.product_id']")).to_have_count(0)
    expect(page.locator("#f-received_units-0-condition")).to_have_value("intact")
    scan(page, "received_units-0-scanned_coi", coi)


def add_rows(page: Page, name: str, rows: list[dict[str, Value]]) -> None:
    """Fill a list's rows, adding a row with its button after the first (rows of one text, or of a record's parts)."""
    for index, row in enumerate(rows):
        if index:
            page.locator(f"button[data-add-row='{name}']").click()
        fill(page, {(f"{name}-{index}-{part}" if part else f"{name}-{index}"): value for part, value in row.items()})


@dataclass
class Chain:
    """The product's custody chain as the people recording it see it, one signed step at a time."""

    desks: Desks
    artefacts: Artefacts
    product_id: str
    coi: str
    signed: set[str] = field(default_factory=set)
    last: str | None = None

    def step(
        self,
        user: str,
        event: str,
        meaning: str,
        state: str,
        values: dict[str, Value] | None = None,
        *,
        link: str | None = None,
        scans: tuple[str, ...] = (),
        before_signing: Callable[[Page], None] | None = None,
    ) -> Page:
        """Worklist → product → step form → scans → signature dialog → signed; the product's new state."""
        page = self.desks(user)
        if user != self.last:  # someone else recorded since: start again from the worklist
            open_from_worklist(page, self.coi)
        before = timeline_length(page)
        open_step(page, link or f"/steps/{event}")
        expect(page.locator("h1")).to_have_attribute("data-step", event)
        fill(page, values or {})
        for name in scans:
            scan(page, name, self.coi)
        if before_signing is not None:
            before_signing(page)
        self.sign(page, user, meaning, label=f"{user}-{event}")
        expect(page.locator("#recorded")).to_have_attribute("data-step", event)
        expect(page.locator("#product-state")).to_have_attribute("data-state", state)
        assert timeline_length(page) > before, f"{event} is not in the timeline"
        self.artefacts.shot(page, f"{user}-{event}-recorded")
        self.last = user
        return page

    def sign(self, page: Page, user: str, meaning: str, *, label: str) -> None:
        """Open the signature dialog, check what it shows, sign; the password only at the first signature."""
        name, role, password, locale = STAFF[user]
        page.locator("#continue-to-signature").click()
        expect(page.locator("#signature-dialog")).to_be_visible()
        shown_role = FRENCH_ROLES[role] if locale == "fr-FR" else role  # the hospital reads French
        expect(page.locator("#sign-name")).to_have_text(f"{name} ({shown_role})")
        expect(page.locator("#sign-time")).to_have_text(SHOWN_DATE_TIME)
        expect(page.locator(f"#meaning option[value='{meaning}']")).to_have_count(1)
        page.locator("#meaning").select_option(meaning)
        expect(page.locator("#meaning")).to_have_value(meaning)
        expect(page.locator("#meaning option:checked")).to_contain_text(meaning)
        box = page.locator("#signature-password")
        if user in self.signed:
            expect(box).to_have_count(0)
        else:
            expect(box).to_be_visible()
            box.fill(password)
        self.artefacts.shot(page, f"{label}-signature")
        page.locator("#sign-button").click()
        outcome = page.locator("#recorded, #problem").first
        expect(outcome).to_be_visible()
        if page.locator("#problem").count():
            self.artefacts.shot(page, f"{label}-refused")
            pytest.fail(f"{label} was refused: {page.locator('#problem').inner_text()}")
        self.signed.add(user)


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_car_t_journey_from_collection_to_infusion(ward: Ward, desks: Desks, artefacts: Artefacts) -> None:
    product, coi = str(ward.journey.product), ward.journey.coi.value
    chain = Chain(desks, artefacts, product, coi)
    lot = f"LOT-{ward.journey.coi.sequence}"
    bag = f"{lot}-B1"

    def times_prefilled(*names: str) -> Callable[[Page], None]:
        def check(page: Page) -> None:
            for name in names:
                expect(page.locator(f"#f-{name}")).to_have_value(FORM_DATE_TIME)

        return check

    def units_prefilled(page: Page) -> None:
        expect(page.locator("#f-units-0")).to_have_value(product)
        expect(page.locator("#scan-units-0 [data-scan]")).to_have_attribute("data-scan", "match")

    def received(page: Page) -> None:
        scan_into_receipt(page, product, coi)

    def thaw_scanned(page: Page) -> None:
        times_prefilled("started_at", "completed_at")(page)
        scan(page, "bag_id", bag)  # the bag's own label, checked live against the lot's bags

    # Collection at the apheresis unit (the nurse's first signature: password asked).
    chain.step(
        "nurse", "ApheresisCollected", "performed", "collected",
        {
            "din": f"G1234{ward.journey.coi.year}{uuid.uuid4().int % 1_000_000:06d}",
            "site": demo.APHERESIS_SITE, "volume_ml": "245", "preservation": "fresh",
            "tnc_count": "1.2e10", "cd3_count": "4.1e9",
        },
        before_signing=times_prefilled("started_at", "ended_at"),
    )  # fmt: skip
    # Fresh cells to the manufacturer, from the product page's dispatch link.
    chain.step(
        "courier", "ShipmentDispatched", "performed", "in_transit",
        {
            "leg": "to_manufacturer", "from_site": demo.APHERESIS_SITE, "to_site": demo.MANUFACTURER,
            "courier": "courier", "shipper_id": "CBX-2-8-0412", "data_logger_id": "LOG-7781",
            "temperature_class": "fresh_2_8c", "seal_ids-0": "SEAL-55120",
        },
        link="/shipments/new/steps/ShipmentDispatched?product=",
        before_signing=units_prefilled,
    )  # fmt: skip
    chain.step(
        "qp", "ShipmentReceived", "received", "received_at_manufacturer",
        {"site": demo.MANUFACTURER, "seal_intact": True, "temperature_ok": True, "data_logger_reviewed": True,
         "min_c": "3.4", "max_c": "6.9", "excursion_min": "0"},
        link="/steps/ShipmentReceived?product=",
        before_signing=received,
    )  # fmt: skip
    chain.step("qp", "ManufacturingStarted", "performed", "manufacturing", {"lot": lot, "site": demo.MANUFACTURER})
    chain.step(
        "qp", "ManufacturingCompleted", "performed", "manufactured",
        {"lot": lot, "dose_description": "1.0 × 10^6 CAR+ T cells/kg"},
        before_signing=lambda page: add_rows(page, "bag_ids", [{"": f"{lot}-B1"}, {"": f"{lot}-B2"}]),
    )  # fmt: skip
    tests = [
        {"name": "sterility", "result": "no growth", "specification": "no growth", "in_spec": True},
        {"name": "endotoxin", "result": "0.4 EU/mL", "specification": "< 5 EU/mL", "in_spec": True,
         "value": 0.4, "unit": "EU/mL"},
        {"name": "mycoplasma", "result": "negative", "specification": "negative", "in_spec": True},
        {"name": "viability", "result": "92 %", "specification": ">= 80 %", "in_spec": True, "value": 92, "unit": "%"},
        {"name": "CAR expression", "result": "38 %", "specification": ">= 15 %", "in_spec": True,
         "value": 38, "unit": "%"},
        {"name": "vector copy number", "result": "1.6 copies/cell", "specification": "<= 5 copies/cell",
         "in_spec": True, "value": 1.6, "unit": "copies/cell"},
        {"name": "potency", "result": "conforms", "specification": "conforms", "in_spec": True},
    ]  # fmt: skip
    # The whole release panel with measured values, recorded by a second QP: the releasing QP does not judge its own QC.
    rows: list[dict[str, Value]] = [
        {part: (str(value) if not isinstance(value, bool) else value) for part, value in test.items()} for test in tests
    ]
    chain.step(
        "qc", "QcResultsRecorded", "reviewed", "qc_in_spec", before_signing=lambda page: add_rows(page, "tests", rows)
    )
    chain.step("qp", "ProductReleased", "released", "released", {"certificate_id": "CoR-1"})
    # Cryopreserved product to the hospital pharmacy (the courier's second signature: no password).
    chain.step(
        "courier", "ShipmentDispatched", "performed", "in_transit",
        {
            "leg": "to_pharmacy", "from_site": demo.MANUFACTURER, "to_site": demo.PHARMACY,
            "courier": "courier", "shipper_id": "LN2-DS-0098", "data_logger_id": "LOG-9120",
            "temperature_class": "ln2_dry_shipper", "seal_ids-0": "SEAL-88001",
        },
        link="/shipments/new/steps/ShipmentDispatched?product=",
        before_signing=units_prefilled,
    )  # fmt: skip
    chain.step(
        "pharmacist", "ShipmentReceived", "received", "received_at_pharmacy",
        {
            "site": demo.PHARMACY, "seal_intact": True, "temperature_ok": True,
            "data_logger_reviewed": True, "certificate_of_release_checked": True,
            "min_c": "-192.5", "max_c": "-171", "excursion_min": "0",
        },
        link="/steps/ShipmentReceived?product=",
        before_signing=received,
    )  # fmt: skip
    chain.step(
        "pharmacist", "StoredInLN2", "performed", "stored",
        {
            "site": demo.PHARMACY, "tank": "LN2-TANK-1", "rack": "R3", "box": "B12",
            "position": "A2", "temperature_c": "-180.0",
        },
    )  # fmt: skip
    # Administration on the unit.
    chain.step(
        "pharmacist", "Dispensed", "verified", "dispensed",
        {"to_unit": demo.UNIT, "release_verified": True},
        scans=("scanned_coi",), before_signing=lambda page: scan(page, "scanned_patient", PATIENT),
    )  # fmt: skip
    chain.step(
        "nurse", "Thawed", "performed", "thawed", {"method": "dry_thawer"},
        before_signing=thaw_scanned,
    )  # fmt: skip

    # Each bedside check scans the bag's own label and the patient's wristband (hospital number, birth date).
    def bedside(page: Page) -> None:
        scan(page, "scanned_bag_id", bag)
        scan(page, "wristband_hospital_number", IDENTITY.hospital_number, verdict="empty")  # waits for the birth date
        scan(page, "wristband_birth_date", IDENTITY.birth_date)

    chain.step("nurse", "BedsideCheckPerformed", "performed", "thawed", scans=("scanned_coi",), before_signing=bedside)
    chain.step(
        "physician", "BedsideCheckWitnessed", "witnessed", "bedside_verified", scans=("scanned_coi",),
        before_signing=bedside,
    )  # fmt: skip
    page = chain.step(
        "nurse", "Infused", "performed", "infused",
        {"volume_ml": "68", "bag_ids-0": True, "observations": "well tolerated"},  # the thawed bag, ticked
        before_signing=times_prefilled("started_at", "ended_at"),
    )  # fmt: skip

    # The whole chain verifies: hashes, signatures, anchored in the ledger's published key.
    badge = page.locator("#verification-badge")
    expect(badge).to_have_class(re.compile(r"\bgood\b"))
    expect(badge).to_contain_text(f"({timeline_length(page)})")
    expect(page.locator("#next-step")).to_have_attribute("data-next-step", "FollowUpRecorded")
    expect(page.locator("#product-coi")).to_have_text(coi)
    assert page.locator("#coi-barcode").evaluate("image => image.complete && image.naturalWidth > 0")
    shown = page.locator("#timeline > li").evaluate_all("items => items.map(item => item.dataset.event)")
    for event in ("ProductEnrolled", "ApheresisCollected", "ProductReleased", "Dispensed", "Infused"):
        assert event in shown, shown
    with page.expect_download() as download:
        page.locator("#export-bundle").click()
    bundle = artefacts.folder / download.value.suggested_filename
    download.value.save_as(bundle)
    assert json.loads(bundle.read_text())  # kept with the screenshots, for an inspector
    artefacts.shot(page, "verified", full_page=True)


def test_label_mismatch(ward: Ward, desks: Desks, artefacts: Artefacts) -> None:
    """Another patient's label scanned at dispensing: shown at once, no signature dialog; forced, a near miss."""
    page = desks("pharmacist")
    coi = ward.stored.coi.value
    open_from_worklist(page, coi)
    before = timeline_length(page)
    expect(page.locator("#product-state")).to_have_attribute("data-state", "stored")
    open_step(page, "/steps/Dispensed")
    form_url = page.url
    fill(page, {"to_unit": demo.UNIT, "release_verified": True})
    scan(page, "scanned_patient", STORED_PATIENT)
    scan(page, "scanned_coi", ward.other.coi.value, verdict="mismatch")
    alarm = page.locator("#scan-scanned_coi [data-scan=mismatch]")
    expect(alarm).to_be_visible()
    expect(alarm).to_have_attribute("role", "alert")
    expect(alarm).to_have_class(re.compile(r"\bscan-mismatch\b"))
    expect(alarm).to_contain_text(re.compile("MISMATCH|DISCORDANCE"))
    assert page.url == form_url, "the scanner's Enter must not submit the form"
    artefacts.shot(page, "mismatch-shown")

    page.locator("#continue-to-signature").click()
    expect(page.locator("#signature-dialog")).to_be_hidden()
    expect(page.locator("#f-scanned_coi")).to_be_focused()
    artefacts.shot(page, "no-signature-dialog")

    # A form sent past the page's script, password and all, is refused by the server: the dispensing is not
    # signed, and the pharmacist's scan of the wrong label is recorded as a near miss that suspends the product.
    page.locator("#step-form").evaluate(
        "(form, password) => { form.elements.password.value = password; form.submit(); }", STAFF["pharmacist"][2]
    )
    expect(page.locator("#problem")).to_contain_text("identity_mismatch")
    artefacts.shot(page, "server-refuses")

    page.goto(f"/ui/products/{quote(coi)}")
    expect(page.locator("#product-state")).to_have_attribute("data-state", "stored")
    assert timeline_length(page) == before + 1, "the near miss, and nothing else, is stored"
    expect(page.locator("#timeline > li").last).to_have_attribute("data-event", "IdentityMismatchRecorded")
    expect(page.locator("#holds")).to_contain_text("suspension")
    expect(page.locator("#next-step")).to_have_attribute("data-next-step", "MismatchResolved")
    expect(page.locator("#verification-badge")).to_have_class(re.compile(r"\bgood\b"))
    # The other patient's product is untouched too.
    page.goto(f"/ui/products/{quote(ward.other.coi.value)}")
    expect(page.locator("#product-state")).to_have_attribute("data-state", "enrolled")
    assert OTHER_PATIENT in page.locator("main").inner_text()


def test_forbidden_action(ward: Ward, page: Page, artefacts: Artefacts) -> None:
    """The courier opens the QP's release form by its address: a 403 page, and nothing stored."""
    product = str(ward.journey.product)
    as_user(page, "courier")
    page.goto(f"/ui/products/{product}")
    before = timeline_length(page)
    expect(page.locator("#step-links a[href*='ProductReleased']")).to_have_count(0)

    answer = page.goto(f"/ui/products/{product}/steps/ProductReleased")
    assert answer is not None and answer.status == 403
    problem = page.locator("#problem")
    expect(problem).to_be_visible()
    expect(problem).to_have_attribute("role", "alert")
    expect(problem).to_contain_text("courier")
    expect(problem).to_contain_text("role_not_allowed")
    expect(page.locator("#step-form")).to_have_count(0)
    artefacts.shot(page, "courier-forbidden")

    # Posting the form anyway, with the session's own CSRF token, is refused the same way.
    csrf = page.locator("input[name=csrf]").first.input_value()
    posted = page.request.post(
        f"/ui/products/{product}/steps/ProductReleased",
        form={"csrf": csrf, "certificate_id": "CoR-FORGED", "meaning": "released"},
        max_redirects=0,
    )
    assert posted.status == 403, posted.status

    # Seen by the auditor afterwards (same browser, the courier signed out): nothing was stored.
    as_user(page, "auditor")
    page.goto(f"/ui/products/{product}")
    assert timeline_length(page) == before
    expect(page.locator("#product-state")).to_have_attribute("data-state", "enrolled")
    artefacts.shot(page, "auditor-sees-nothing-stored")

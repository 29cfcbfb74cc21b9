"""Scans, not JSON: every list of a step form is rows or check boxes, every scan is checked live, nothing is JSON.

The form → payload conversion is checked for every list field of every step form
against payloads written by hand; bad rows and bad scans are refused naming the field
and the rule with the ledger unchanged; the live checks (label, bag, patient,
wristband, shipped unit) answer match or mismatch, reveal no identity and record
nothing. Storage tests run on both backends (the ``backend`` fixture).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from api import demo_journeys as j
from api.web import scan_checks
from api.web.forms import LIST_WIDGETS, SCALAR_WIDGETS, FormField, form_fields, payload_from_form
from api.web.i18n import translator
from domain.errors import InvalidInput
from domain.product import TherapyProduct
from domain.registry import EVENT_TYPES
from ledger.service import CustodyLedger
from tests.api.conftest import ROLES, START, password
from tests.integration.journeys import IDENTITY, Journey, Recorder, enrolled, identified, released_and_stored, thawed
from tests.web.test_pages import csrf

PARIS = ZoneInfo("Europe/Paris")
SHA = "ab" * 32
STEP_KINDS = ("product", "shipment")


def step_specs() -> list[Any]:
    """Every event type a person records on a step form (products and shipments; derived events have none)."""
    return [spec for spec in EVENT_TYPES.values() if spec.kind in STEP_KINDS and spec.derived_from is None]


def fields_of(step: str, known: dict[str, tuple[str, ...]] | None = None) -> list[FormField]:
    return form_fields(EVENT_TYPES[step].payload, known=known)


def only(step: str, name: str, form: dict[str, str], known: dict[str, tuple[str, ...]] | None = None) -> Any:
    """The payload value one field of ``step`` gets from ``form`` (None: left out)."""
    payload = payload_from_form([f for f in fields_of(step, known) if f.name == name], form, PARIS)
    return payload.get(name)


# -- every list field of every step form, converted --------------------------------------------------------

PRODUCT = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
CASES: dict[tuple[str, str], tuple[dict[str, str], Any]] = {
    ("ManufacturingCompleted", "bag_ids"): (
        {"bag_ids.0": "LOT-7-B1", "bag_ids.2": " LOT-7-B2 ", "bag_ids.1": "", "bag_ids.x": "ignored"},
        ["LOT-7-B1", "LOT-7-B2"],
    ),
    ("Infused", "bag_ids"): ({"bag_ids.0": "LOT-7-B1", "bag_ids.1": "LOT-7-B2"}, ["LOT-7-B1", "LOT-7-B2"]),
    ("QcResultsRecorded", "tests"): (
        {
            "tests.0.name": "sterility", "tests.0.result": "no growth", "tests.0.specification": "no growth",
            "tests.0.in_spec": "on",
            "tests.1.name": "endotoxin", "tests.1.result": "0,4 EU/mL", "tests.1.specification": "< 5 EU/mL",
            "tests.1.in_spec": "on", "tests.1.value": "0,4", "tests.1.unit": "EU/mL",
            "tests.2.name": "", "tests.2.result": "", "tests.2.specification": "",  # a spare row, left empty
            "tests.3.name": "mycoplasma", "tests.3.result": "positive", "tests.3.specification": "negative",
        },
        [
            {"name": "sterility", "result": "no growth", "specification": "no growth", "in_spec": True},
            {"name": "endotoxin", "result": "0,4 EU/mL", "specification": "< 5 EU/mL", "in_spec": True,
             "value": 0.4, "unit": "EU/mL"},
            {"name": "mycoplasma", "result": "positive", "specification": "negative", "in_spec": False},
        ],
    ),
    ("ExceptionalReleaseApproved", "notified"): (
        {"notified.0": "sponsor", "notified.2": "marketing_authorisation_holder"},
        ["sponsor", "marketing_authorisation_holder"],
    ),
    ("ExceptionalReleaseApproved", "accepted_failed_tests"): ({"accepted_failed_tests.0": "sterility"}, ["sterility"]),
    ("Thawed", "infusion_blockers_acknowledged"): (
        {"infusion_blockers_acknowledged.0": "consent_missing"}, ["consent_missing"],
    ),
    ("DeviationImpactAssessed", "steps"): ({"steps.2": "thaw", "steps.3": "infusion"}, ["thaw", "infusion"]),
    ("EventCorrected", "corrections"): (
        {
            "corrections.0.key": "volume_ml", "corrections.0.kind": "number", "corrections.0.value": "250",
            "corrections.1.key": "rack", "corrections.1.kind": "text", "corrections.1.value": "12",
            "corrections.2.key": "started_at", "corrections.2.kind": "datetime",
            "corrections.2.value": "2026-03-02T09:15",
            "corrections.3.key": "temperature_ok", "corrections.3.kind": "yesno", "corrections.3.value": "false",
            "corrections.4.key": "", "corrections.4.kind": "text", "corrections.4.value": "",
        },
        {"volume_ml": 250, "rack": "12", "started_at": "2026-03-02T09:15:00+01:00", "temperature_ok": False},
    ),
    ("ShipmentDispatched", "units"): ({"units.0": PRODUCT.upper(), "units.1": ""}, [PRODUCT]),
    ("ShipmentDispatched", "seal_ids"): ({"seal_ids.0": "SEAL-1", "seal_ids.1": "SEAL-2"}, ["SEAL-1", "SEAL-2"]),
    ("ShipmentReceived", "received_units"): (
        {"received_units.0.product_id": PRODUCT, "received_units.0.scanned_coi": "W1234 26 000001 X",
         "received_units.0.condition": "intact"},
        [{"product_id": PRODUCT, "scanned_coi": "W1234 26 000001 X", "condition": "intact"}],
    ),
}  # fmt: skip
DOCUMENT_FORM = {"document.sha256": SHA, "document.media_type": "application/pdf", "document.size_bytes": "2048"}
DOCUMENT = {"sha256": SHA, "media_type": "application/pdf", "size_bytes": 2048}


def list_fields() -> set[tuple[str, str]]:
    return {(spec.name, f.name) for spec in step_specs() for f in form_fields(spec.payload) if f.widget in LIST_WIDGETS}


def test_every_list_field_of_every_step_form_has_its_conversion_checked() -> None:
    documents = {(step, name) for step, name in list_fields() if name in ("document", "manifest")}
    assert list_fields() - documents == set(CASES), "a new list field needs its case here"
    assert ("ShipmentReceived", "manifest") in documents and ("QcResultsRecorded", "document") in documents


@pytest.mark.parametrize(("step", "name"), sorted(CASES))
def test_rows_and_check_boxes_become_the_payload_list(step: str, name: str) -> None:
    form, expected = CASES[(step, name)]
    assert only(step, name, form) == expected


@pytest.mark.parametrize(("step", "name"), sorted(list_fields() - set(CASES)))
def test_a_document_reference_is_three_inputs_and_left_out_when_empty(step: str, name: str) -> None:
    typed = {key.replace("document.", f"{name}."): value for key, value in DOCUMENT_FORM.items()}
    assert only(step, name, typed) == DOCUMENT
    assert only(step, name, {f"{name}.sha256": "", f"{name}.media_type": "", f"{name}.size_bytes": ""}) is None


def test_the_product_s_own_bags_are_check_boxes_and_an_unticked_list_is_left_out() -> None:
    [bags] = [f for f in fields_of("Infused", {"bag_ids": ("LOT-7-B1", "LOT-7-B2")}) if f.name == "bag_ids"]
    assert (bags.widget, bags.choices) == ("checks", ("LOT-7-B1", "LOT-7-B2"))
    assert only("Infused", "bag_ids", {}, {"bag_ids": ("LOT-7-B1",)}) is None


def test_no_step_form_field_is_json_at_any_depth() -> None:
    def widgets(fields: list[FormField] | tuple[FormField, ...]) -> set[str]:
        return {f.widget for f in fields} | {w for f in fields for w in widgets(f.parts)}

    seen = set().union(*(widgets(form_fields(spec.payload)) for spec in step_specs()))
    assert "json" not in seen and seen <= set(SCALAR_WIDGETS) | set(LIST_WIDGETS) - {"fixed"} | {"fixed"}
    scans = {f.name: f.scan for spec in step_specs() for f in form_fields(spec.payload) if f.scan}
    assert scans == {
        "scanned_coi": "coi", "scanned_bag_id": "bag", "bag_id": "bag_to_thaw", "scanned_patient": "patient",
        "wristband_hospital_number": "wristband", "wristband_birth_date": "wristband", "units": "unit",
        "shipper_id": "shipper",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("step", "form", "field", "rule"),
    [
        ("ShipmentDispatched", {"units.0": PRODUCT, "units.1": "NOT-A-LABEL"}, "payload.units[1]", "unknown_unit"),
        ("QcResultsRecorded", {"tests.0.name": "viability", "tests.0.value": "ninety"}, "payload.tests[0].value",
         "not_a_number"),
        ("EventCorrected", {"corrections.0.key": "volume_ml", "corrections.0.kind": "json",
                            "corrections.0.value": "{}"}, "payload.corrections.volume_ml", "wrong_type"),
        ("EventCorrected", {"corrections.0.key": "volume_ml", "corrections.0.kind": "number",
                            "corrections.0.value": "lots"}, "payload.corrections.volume_ml", "not_a_number"),
        ("StoredInLN2", {"temperature_ok": "maybe"}, "payload.temperature_ok", "not_yes_or_no"),
    ],
)  # fmt: skip
def test_a_bad_row_is_refused_naming_the_field_and_the_rule(
    step: str, form: dict[str, str], field: str, rule: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        payload_from_form(fields_of(step), form, PARIS)
    assert (refused.value.field, refused.value.rule) == (field, rule)


# -- the forms in the browser's shoes ----------------------------------------------------------------------


def in_transit(team: Recorder, pseudonym: str = "PSN-TEST-0001") -> tuple[Journey, UUID]:
    """A released product in its LN2 dry shipper on the way to the pharmacy; the shipment's id."""
    journey = enrolled(team, START, pseudonym)
    din = f"G1234{START.year % 100:02d}{uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(team, journey.product, journey.coi, din, START + timedelta(days=1))
    j.qc(team, journey.product, qc_at)
    team("qp", "ProductReleased", journey.product, qc_at + timedelta(days=1), "released", certificate_id="CoR-1")
    shipment = j.dispatch_to_pharmacy(team, [(journey.product, journey.coi)], qc_at + timedelta(days=2))
    return journey, shipment


def receipt_form(page: str, scanned: str) -> dict[str, str]:
    return {
        "csrf": csrf(page), "site": j.PHARMACY, "seal_intact": "on", "data_logger_reviewed": "on",
        "min_c": "-190", "max_c": "-172,5", "excursion_min": "0", "certificate_of_release_checked": "true",
        "received_units.0.product_id": re.findall(r'name="received_units\.0\.product_id" value="([^"]+)"', page)[0],
        "received_units.0.scanned_coi": scanned, "received_units.0.condition": "intact",
        "meaning": "received", "password": password("pharmacist"),
    }  # fmt: skip


def test_the_pharmacy_receipt_is_scanned_row_by_row_not_typed_as_json(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey, shipment = in_transit(team)
    client = browser_of("pharmacist")
    url = f"/ui/shipments/{shipment}/steps/ShipmentReceived?product={journey.product}"
    page = client.get(url).text
    assert "<textarea" not in page and "[{" not in page and "&#34;product_id&#34;" not in page
    assert f'name="received_units.0.product_id" value="{journey.product}"' in page
    assert 'name="received_units.0.scanned_coi"' in page and f'/ui/products/{journey.product}/scan/coi"' in page
    assert 'data-add-row="received_units"' not in page, "the shipment's own units: no row to add"
    post = f"/ui/shipments/{shipment}/steps/ShipmentReceived"
    done = client.post(post, data={**receipt_form(page, journey.coi.value), "product": str(journey.product)},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    received = ledger.history(shipment)[-1]
    assert received.type == "ShipmentReceived"
    assert received.body["payload"]["received_units"] == [
        {"product_id": str(journey.product), "scanned_coi": journey.coi.value, "condition": "intact"}
    ]
    assert received.body["payload"]["max_c"] == -172.5


def test_a_receipt_row_left_unscanned_is_refused_naming_the_row_and_kept_as_typed(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey, shipment = in_transit(team)
    client = browser_of("pharmacist")
    page = client.get(f"/ui/shipments/{shipment}/steps/ShipmentReceived?product={journey.product}").text
    size = ledger.store.size()
    form = {**receipt_form(page, ""), "product": str(journey.product), "max_c": "-171"}
    refused = client.post(f"/ui/shipments/{shipment}/steps/ShipmentReceived", data=form)
    assert refused.status_code == 422, refused.text
    assert "payload.received_units[0].scanned_coi" in refused.text and "<code>required</code>" in refused.text
    assert ledger.store.size() == size
    assert f'name="received_units.0.product_id" value="{journey.product}"' in refused.text
    assert 'id="f-max_c" name="max_c" value="-171"' in refused.text, "what was typed is shown again"


def test_a_unit_that_is_no_product_is_refused_at_dispatch_with_the_ledger_unchanged(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    client = browser_of("courier")
    page = client.get(f"/ui/shipments/new/steps/ShipmentDispatched?product={journey.product}").text
    assert f'name="units.0" value="{journey.product}"' in page and 'data-add-row="units"' in page
    assert 'data-add-row="seal_ids"' in page and "<textarea" not in page
    size = ledger.store.size()
    refused = client.post(
        "/ui/shipments/new/steps/ShipmentDispatched",
        data={"csrf": csrf(page), "units.0": "W9999 26 123456 Q", "leg": "to_pharmacy", "meaning": "performed"},
    )
    assert refused.status_code == 422 and "payload.units[0]" in refused.text and "unknown_unit" in refused.text
    assert ledger.store.size() == size


def test_every_step_form_of_every_role_shows_no_json(browser_of: Any, team: Recorder) -> None:
    journey, shipment = in_transit(team)
    textarea = re.compile(r"<textarea[^>]*>(.*?)</textarea>", re.S)
    walked = 0
    for role in ROLES:
        client = browser_of(role)
        for spec in step_specs():
            if not spec.allows_role(role):
                continue
            target = f"products/{journey.product}" if spec.kind == "product" else f"shipments/{shipment}"
            page = client.get(f"/ui/{target}/steps/{spec.name}?product={journey.product}")
            if spec.name == "ExceptionalReleaseApproved" and page.status_code == 409:
                continue  # not offered before the physician's request (its widgets: the form → payload tests above)
            assert page.status_code == 200, (role, spec.name, page.text[:300])
            walked += 1
            for content in textarea.findall(page.text):
                assert not content.strip().startswith(("[", "{")), (role, spec.name, content)
            assert "JSON" not in page.text, (role, spec.name)
    assert walked >= 85, walked  # every role's forms: about 95 role × step pairs today


# -- live checks: match or mismatch, nothing recorded, no identity shown ----------------------------------

VERDICTS = {
    "COI matches this product": "Le COI correspond à ce produit",
    "MISMATCH: this label is not this product": "DISCORDANCE : cette étiquette n'est pas ce produit",
    "This bag is a bag of this product": "Cette poche est une poche de ce produit",
    "MISMATCH: this bag is not a bag of this product": "DISCORDANCE : cette poche n'est pas une poche de ce produit",
    "This bag is already thawed": "Cette poche est déjà décongelée",
    "Patient matches this product": "Le patient correspond à ce produit",
    "MISMATCH: this is not this product's patient": "DISCORDANCE : ce n'est pas le patient de ce produit",
    "Scan the hospital number and the birth date of the wristband":
        "Scannez le numéro hospitalier et la date de naissance du bracelet",
    "The wristband's birth date is not a date (YYYY-MM-DD or DD/MM/YYYY)":
        "La date de naissance du bracelet n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA)",
    "No identity is registered for this patient: the wristband cannot be checked":
        "Aucune identité n'est enregistrée pour ce patient : le bracelet ne peut pas être contrôlé",
    "Wristband matches this product's patient": "Le bracelet correspond au patient de ce produit",
    "MISMATCH: this wristband is not this product's patient":
        "DISCORDANCE : ce bracelet n'est pas celui du patient de ce produit",
    "UNKNOWN: no product has this label": "INCONNU : aucun produit ne porte cette étiquette",
    "Product found": "Produit trouvé",
}  # fmt: skip


def test_every_live_check_answer_is_said_in_french() -> None:
    source = Path(scan_checks.__file__).read_text()
    said = set(re.findall(r'Verdict\(\s*"[a-z]+",\s*"([^"]+)"\s*\)', source))
    assert said == set(VERDICTS), "a new answer needs its French here and in scan.po"
    french = translator("fr")
    assert {text: french(text) for text in said} == VERDICTS


def verdict_of(answer: Any) -> str:
    found = re.search(r'data-scan="([a-z]+)"', answer.text)
    assert answer.status_code == 200 and found, answer.text
    return found.group(1)


def test_live_checks_of_label_bag_and_patient_answer_before_signing_and_record_nothing(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = thawed(team, START)
    other = enrolled(team, START, "PSN-TEST-0002")
    client = browser_of("nurse")
    size = ledger.store.size()
    base = f"/ui/products/{journey.product}/scan"

    def check(kind: str, value: str) -> str:
        return verdict_of(client.post(f"{base}/{kind}", data={"field": "scanned", "scanned": value}))

    assert check("coi", journey.coi.value) == "match"
    assert check("coi", other.coi.value) == "mismatch"
    assert check("coi", "not a label") == "mismatch"
    assert check("coi", "") == "empty"
    assert check("bag", journey.bag or "") == "match"
    assert check("bag", f"LOT-{journey.coi.sequence}-B2") == "mismatch", "not thawed: not the bag for the bedside"
    assert check("bag_to_thaw", journey.bag or "") == "mismatch", "already thawed"
    assert check("bag_to_thaw", f"LOT-{journey.coi.sequence}-B2") == "match"
    assert check("bag_to_thaw", "LOT-OTHER-B1") == "mismatch"
    assert check("patient", "PSN-TEST-0001") == "match"
    assert check("patient", "PSN-TEST-0002") == "mismatch"
    assert client.post(f"{base}/everything", data={}).status_code == 404
    assert ledger.store.size() == size
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct) and not product.suspended


def test_the_wristband_is_checked_live_inside_the_ledger_without_revealing_or_recording_anything(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = thawed(team, START)
    identified(ledger)
    client = browser_of("nurse")
    url = f"/ui/products/{journey.product}/scan/wristband"
    size = ledger.store.size()

    def check(number: str, born: str) -> Any:
        return client.post(url, data={"wristband_hospital_number": number, "wristband_birth_date": born})

    assert verdict_of(check(IDENTITY.hospital_number, IDENTITY.birth_date)) == "match"
    assert verdict_of(check(" ipp- 77001", "14/03/1979")) == "match", "as printed: spaces, case, day first"
    wrong = check("IPP-NEXT-BED", IDENTITY.birth_date)
    assert verdict_of(wrong) == "mismatch" and 'role="alert"' in wrong.text
    assert verdict_of(check(IDENTITY.hospital_number, "1980-03-14")) == "mismatch"
    for shown in (wrong.text, check(IDENTITY.hospital_number, "1980-03-14").text):
        for secret in (IDENTITY.hospital_number, IDENTITY.birth_date, IDENTITY.family_name, "1980", "NEXT-BED"):
            assert secret not in shown
        assert "hospital" not in shown.lower() and "birth" not in shown.lower(), "which field differed is not said"
    assert verdict_of(check(IDENTITY.hospital_number, "")) == "empty"
    assert verdict_of(check(IDENTITY.hospital_number, "the 14th")) == "invalid"
    assert ledger.store.size() == size, "a live check records nothing: no near miss, no step"
    product = ledger.load(journey.product)
    assert isinstance(product, TherapyProduct) and not product.suspended
    assert browser_of("courier").post(url, data={"wristband_hospital_number": "x"}).status_code == 403
    assert browser_of("pharmacist").post(url, data={}).status_code == 403


def test_a_wristband_with_no_registered_identity_cannot_match(
    browser_of: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = thawed(team, START, "PSN-TEST-0005")  # nobody sealed this patient's identity
    answer = browser_of("nurse").post(
        f"/ui/products/{journey.product}/scan/wristband",
        data={"wristband_hospital_number": IDENTITY.hospital_number, "wristband_birth_date": IDENTITY.birth_date},
    )
    assert verdict_of(answer) == "invalid" and 'role="alert"' in answer.text


def test_a_shipped_unit_is_checked_live_as_a_product_the_person_can_see(browser_of: Any, team: Recorder) -> None:
    journey = released_and_stored(team, START)
    client = browser_of("courier")

    def check(value: str) -> str:
        return verdict_of(client.post("/ui/scan/unit", data={"field": "units.0", "units.0": value}))

    assert check(journey.coi.value) == "match"
    assert check(str(journey.product)) == "match"
    assert check("W9999 26 123456 Q") == "mismatch"
    assert check(str(uuid4())) == "mismatch"


def test_the_bedside_form_scans_coi_bag_and_wristband_live(browser_of: Any, team: Recorder) -> None:
    journey = thawed(team, START)
    page = browser_of("nurse").get(f"/ui/products/{journey.product}/steps/BedsideCheckPerformed").text
    base = f"/ui/products/{journey.product}/scan"
    for name, kind in (("scanned_coi", "coi"), ("scanned_bag_id", "bag")):
        assert re.search(rf'id="f-{name}"[^>]*data-box="scan-{name}"[^>]*hx-post="{base}/{kind}"', page, re.S), name
    for name in ("wristband_hospital_number", "wristband_birth_date"):
        assert re.search(rf'id="f-{name}"[^>]*data-box="scan-wristband"[^>]*hx-post="{base}/wristband"', page, re.S)
    assert page.count('id="scan-wristband"') == 1

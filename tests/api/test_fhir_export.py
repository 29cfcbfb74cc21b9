"""`GET /products/{id}/fhir` on both backends: a valid R5 Bundle carrying the proof; sponsors kept to their trials.

Every resource of the answer is validated with ``fhir.resources`` (R5); each Provenance
must carry the hash and signature stored for its step, and nothing of the patient but
the pseudonym may appear, although the patient's identity is sealed in this ledger.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fhir.resources import get_fhir_model_class

from api import demo_journeys as j
from ledger.service import CustodyLedger
from ledger.setup import register_staff
from tests.api.conftest import START, password
from tests.integration.journeys import IDENTITY, PATIENT, Recorder, enrolled, infused, password_of, ready
from tests.integration.msc_dose import msc_dose_with_sec


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def test_an_infused_product_reads_as_a_valid_r5_bundle_with_each_step_signed(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = infused(team, START)
    assert journey.ended_at is not None
    team("physician", "AdverseEventRecorded", journey.product, journey.ended_at + timedelta(days=8), "recorded",
         category="icans", grade=1, description="word-finding difficulty, resolved")  # fmt: skip
    answer = sign_in("pharmacist").get(f"/products/{journey.coi.value}/fhir")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    bundle = answer.json()
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    assert bundle["type"] == "collection"

    history = ledger.history(journey.product)
    provenances = _resources(bundle, "Provenance")
    assert [p["activity"]["coding"][0]["code"] for p in provenances] == [e.type for e in history]
    for envelope, provenance in zip(history, provenances, strict=True):
        assert provenance["signature"][0]["data"] == envelope.signature
        hashes = [e["valueString"] for e in provenance["extension"] if e["url"].endswith("event-hash")]
        assert hashes == [envelope.hash]
        assert provenance["agent"][0]["who"]["identifier"]["value"] == envelope.body["actor"]["user_id"]

    (product,) = [p for p in _resources(bundle, "BiologicallyDerivedProduct") if "parent" not in p]
    assert product["identifier"][0] == {"system": "urn:custody-ledger:coi", "value": journey.coi.value}
    assert product["productCode"]["coding"][0]["code"] == "ACADEMIC-CD19"
    assert [p["code"]["coding"][0]["code"] for p in _resources(bundle, "Procedure")] == [
        "ApheresisCollected",
        "Infused",
    ]
    assert len(_resources(bundle, "BiologicallyDerivedProductDispense")) == 1
    observations = _resources(bundle, "Observation")
    viability = next(o for o in observations if o["code"]["text"] == "viability")
    assert viability["valueQuantity"]["value"] == 92
    assert viability["interpretation"][0]["coding"][0]["code"] == "N"
    (icans,) = [o for o in observations if o["code"]["coding"][0]["code"] == "icans"]
    assert icans["valueInteger"] == 1

    (patient,) = _resources(bundle, "Patient")
    assert patient["identifier"] == [{"system": "urn:custody-ledger:patient-pseudonym", "value": PATIENT}]
    text = json.dumps(bundle, ensure_ascii=False)
    for revealing in (IDENTITY.family_name, IDENTITY.given_name, IDENTITY.birth_date, IDENTITY.hospital_number):
        assert revealing not in text


def test_a_sponsor_reads_the_fhir_bundle_of_its_trials_products_only(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    in_trial = enrolled(team, START)
    ready(team, ledger.clock.now() - timedelta(days=1), "PSN-TEST-0009")
    coi = j.new_coi(ledger.settings.facility, START.year % 100)
    outside = sign_in("physician").post(
        "/products",
        {
            "type": "ProductEnrolled",
            "meaning": "approved",
            "password": password("physician"),
            "payload": {
                "coi": coi.value, "product_kind": "car_t", "product_code": "ACADEMIC-CD19",
                "patient_pseudonym": "PSN-TEST-0009", "indication": "systemic_lupus_erythematosus",
                "treating_physician": "physician", "collection_site": j.APHERESIS_SITE,
            },
        },
    ).json()["aggregate_id"]  # fmt: skip
    sponsor = sign_in("sponsor")
    assert sponsor.get(f"/products/{in_trial.product}/fhir").status_code == 200
    hidden = sponsor.get(f"/products/{outside}/fhir")
    assert hidden.status_code == 404 and hidden.json()["field"] == "product_id"
    assert sign_in("auditor").get(f"/products/{outside}/fhir").status_code == 200
    register_staff(ledger, "sponsor2", "Sid Sponsor", "sponsor", password_of("sponsor2"), registrar="ledger")
    assert sign_in("sponsor2").get(f"/products/{in_trial.product}/fhir").status_code == 404


def test_what_is_not_a_product_answers_404(sign_in: Any, team: Recorder) -> None:
    nurse = sign_in("nurse")
    missing = nurse.get("/products/00000000-0000-0000-0000-00000000dead/fhir")
    assert missing.status_code == 404 and missing.json()["field"] == "product_id"
    assert nurse.get("/products/not-a-coi/fhir").status_code in (404, 422)


def test_an_msc_dose_carries_its_sec_and_its_donor_din(sign_in: Any, team: Recorder, ledger: CustodyLedger) -> None:
    dose = msc_dose_with_sec(team, START)
    assert ledger.history(dose.product)[0].body["payload"]["sec"] == dose.sec_stored
    bundle = sign_in("physician").get(f"/products/{dose.product}/fhir").json()
    (product,) = _resources(bundle, "BiologicallyDerivedProduct")
    get_fhir_model_class("BiologicallyDerivedProduct").model_validate(product)
    assert product["identifier"] == [
        {"system": "urn:custody-ledger:coi", "value": dose.coi.value},
        {"system": "https://www.isbt128.org/uri/DonationIdentificationNumber", "value": dose.donor_din},
        {"system": "urn:custody-ledger:sec", "value": dose.sec_stored},
    ]
    assert product["expirationDate"] == "2027-12-31"
    assert product["biologicalSourceEvent"]["value"] == dose.donor_din

"""The FHIR R5 export, fact by fact, against values written by hand from docs/fhir.md.

Histories are sealed here with a throw-away key, as the ledger seals them, so every
Provenance can be checked against the very signature stored; each exported resource is
validated by ``fhir.resources`` (R5), and the bundle must hold nothing of the patient
but the pseudonym.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fhir.resources import get_fhir_model_class

from domain.catalogue import Catalogue
from domain.events import Actor
from domain.identifiers import allocate_coi, product_id_for
from ledger.envelope import Envelope, event_body, seal, signing_message
from ledger.keys import KeyPair
from projections.fhir_export import fhir_bundle

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
COI = allocate_coi("A9999", 26, "00077F")
PRODUCT = product_id_for(COI)
DIN = "G123426123456"
PSEUDONYM = "PSN-FHIR-0001"
PHYSICIAN = Actor("dr.durand", "Dr Anne Durand", "physician")
NURSE = Actor("nina", "Nina Nurse", "nurse")
QC = Actor("quinn", "Quinn Qc", "qp")
PHARMACIST = Actor("phil", "Phil Pharmacist", "pharmacist")
KEY = KeyPair.generate()

ENROLMENT = {
    "coi": COI.value,
    "product_kind": "car_t",
    "product_code": "KYMRIAH",
    "patient_pseudonym": PSEUDONYM,
    "indication": "systemic_lupus_erythematosus",
    "treating_physician": "dr.durand",
    "collection_site": "CHU Lyon apheresis unit",
}
APHERESIS = {
    "din": DIN,
    "site": "CHU Lyon apheresis unit",
    "volume_ml": 250.0,
    "started_at": "2026-03-03T08:00:00+00:00",
    "ended_at": "2026-03-03T12:00:00+00:00",
    "preservation": "fresh",
}


def test(name: str, result: str, spec: str, in_spec: bool, value: float | None = None, unit: str | None = None
         ) -> dict[str, Any]:  # fmt: skip
    return {"name": name, "result": result, "specification": spec, "in_spec": in_spec,
            **({"value": value, "unit": unit} if value is not None else {})}  # fmt: skip


test.__test__ = False  # type: ignore[attr-defined]  # a builder, not a test

OUT_OF_SPEC_QC = [
    test("viability", "60 %", ">= 80 %", False, 60, "%"),
    test("sterility", "no growth", "no growth", True),
    test("endotoxin", "7 EU/mL", "< 5 EU/mL", False, 7, "EU/mL"),
    test("mycoplasma", "positive", "negative", False),
]
IN_SPEC_QC = [test("viability", "92 %", ">= 80 %", True, 92, "%"), test("sterility", "no growth", "no growth", True)]


def sealed(steps: list[tuple[str, dict[str, Any], Actor, str]]) -> list[Envelope]:
    """Seal a product's history as the ledger would: consecutive versions, each linked to the previous hash."""
    history: list[Envelope] = []
    for index, (event_type, payload, actor, meaning) in enumerate(steps):
        at = T0 + timedelta(days=index)
        body = event_body(
            ledger_id="ledger-test", aggregate_id=PRODUCT, aggregate_kind="product", version=index + 1,
            event_type=event_type, payload=payload, occurred_at=at, recorded_at=at + timedelta(minutes=5),
            actor=actor, meaning=meaning, prev_hash=history[-1].hash if history else None, key_id=KEY.key_id,
        )  # fmt: skip
        history.append(seal(body, KEY))
    return history


def manufactured(qc_tests: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], Actor, str]]:
    return [
        ("ProductEnrolled", ENROLMENT, PHYSICIAN, "performed"),
        ("ApheresisCollected", APHERESIS, NURSE, "performed"),
        ("ManufacturingStarted", {"lot": "LOT-77", "site": "Novartis Stein"}, QC, "performed"),
        ("ManufacturingCompleted", {"lot": "LOT-77", "bag_ids": ["B1", "B2"], "dose_description": "2 bags"}, QC,
         "performed"),
        ("QcResultsRecorded", {"tests": qc_tests}, QC, "reviewed"),
    ]  # fmt: skip


def infused_history() -> list[Envelope]:
    return sealed(
        [
            *manufactured(IN_SPEC_QC),
            ("ProductReleased", {"certificate_id": "CoR-77"}, Actor("qp", "Quentin Qp", "qp"), "released"),
            ("StoredInLN2", {"site": "CHU Lyon pharmacy", "tank": "T1", "rack": "R1", "box": "X1", "position": "A1",
                             "temperature_c": -180.0}, PHARMACIST, "performed"),
            ("Dispensed", {"to_unit": "Haematology ward", "scanned_coi": COI.value, "scanned_patient": PSEUDONYM,
                           "release_verified": True}, PHARMACIST, "verified"),
            ("Thawed", {"method": "dry_thawer", "started_at": "2026-03-10T09:00:00+00:00",
                        "completed_at": "2026-03-10T09:04:00+00:00", "bag_id": "B1"}, NURSE, "performed"),
            ("Infused", {"started_at": "2026-03-11T09:10:00+00:00", "ended_at": "2026-03-11T09:25:00+00:00",
                         "volume_ml": 20.0, "bag_ids": ["B1"], "site": "Haematology ward"}, NURSE, "performed"),
            ("AdverseEventRecorded", {"category": "crs", "grade": 2, "description": "fever, hypotension"},
             PHYSICIAN, "recorded"),
        ]
    )  # fmt: skip


def export(history: list[Envelope]) -> dict[str, Any]:
    return fhir_bundle(PRODUCT, history, Catalogue.default(), T0 + timedelta(days=30))


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def by_id(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}


def qc_observation(bundle: dict[str, Any], name: str) -> dict[str, Any]:
    found = [o for o in resources(bundle, "Observation") if o["code"]["text"] == name]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("history", [sealed(manufactured(OUT_OF_SPEC_QC)), infused_history()], ids=["qc", "infused"])
def test_every_exported_resource_is_valid_fhir_r5(history: list[Envelope]) -> None:
    bundle = export(history)
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    assert bundle["type"] == "collection"
    assert bundle["timestamp"] == "2026-04-01T08:00:00+00:00"


def test_every_reference_points_into_the_bundle() -> None:
    bundle = export(infused_history())
    urls = set(by_id(bundle))
    text = json.dumps(bundle)
    references = {part.split('"')[0] for part in text.split('"reference": "')[1:]}
    assert references and references <= urls


def test_a_viability_of_60_against_at_least_80_is_low_and_out_of_spec() -> None:
    observation = qc_observation(export(sealed(manufactured(OUT_OF_SPEC_QC))), "viability")
    assert observation["valueQuantity"] == {
        "value": 60,
        "unit": "%",
        "system": "http://unitsofmeasure.org",
        "code": "%",
    }
    assert observation["interpretation"] == [
        {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "L",
                 "display": "Low"}
            ],
            "text": "out of specification: below the minimum",
        }
    ]  # fmt: skip
    assert observation["referenceRange"] == [
        {"text": "≥ 80 %", "low": {"value": 80.0, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}
    ]
    assert observation["status"] == "final"
    assert observation["effectiveDateTime"] == "2026-03-06T08:00:00+00:00"
    assert observation["performer"] == [
        {"identifier": {"system": "urn:custody-ledger:username", "value": "quinn"}, "display": "Quinn Qc"}
    ]


def test_an_endotoxin_above_its_exclusive_maximum_is_high_and_a_failed_reading_abnormal() -> None:
    bundle = export(sealed(manufactured(OUT_OF_SPEC_QC)))
    endotoxin = qc_observation(bundle, "endotoxin")
    assert endotoxin["interpretation"][0]["coding"][0]["code"] == "H"
    assert endotoxin["valueQuantity"] == {"value": 7, "unit": "EU/mL"}
    assert endotoxin["referenceRange"] == [{"text": "< 5 EU/mL", "high": {"value": 5.0, "unit": "EU/mL"}}]
    mycoplasma = qc_observation(bundle, "mycoplasma")
    assert mycoplasma["valueString"] == "positive"
    assert mycoplasma["interpretation"][0]["coding"][0]["code"] == "A"
    assert mycoplasma["referenceRange"] == [{"text": "negative"}]
    sterility = qc_observation(bundle, "sterility")
    assert sterility["interpretation"][0]["coding"][0]["code"] == "N"
    assert sterility["interpretation"][0]["text"] == "within specification"


def test_a_panel_test_with_no_result_yet_is_not_exported() -> None:
    names = {o["code"]["text"] for o in resources(export(sealed(manufactured(OUT_OF_SPEC_QC))), "Observation")}
    assert names == {"viability", "sterility", "endotoxin", "mycoplasma"}


def test_the_product_carries_coi_din_code_status_collection_and_storage_limit() -> None:
    bundle = export(sealed(manufactured(OUT_OF_SPEC_QC)))
    patient = resources(bundle, "Patient")[0]
    product = next(p for p in resources(bundle, "BiologicallyDerivedProduct") if "parent" not in p)
    assert product["identifier"] == [
        {"system": "urn:custody-ledger:coi", "value": COI.value},
        {"system": "https://www.isbt128.org/uri/DonationIdentificationNumber", "value": DIN},
    ]
    assert product["productCode"] == {
        "coding": [
            {"system": "urn:custody-ledger:product-code", "code": "KYMRIAH", "display": "Kymriah (tisagenlecleucel)"}
        ],
        "text": "Kymriah (tisagenlecleucel)",
    }
    assert product["productStatus"] == {"system": "http://hl7.org/fhir/biologicallyderived-product-status",
                                        "code": "unavailable"}  # fmt: skip
    assert product["collection"] == {
        "source": {"reference": f"urn:uuid:{patient['id']}", "type": "Patient"},
        "collectedPeriod": {"start": "2026-03-03T08:00:00+00:00", "end": "2026-03-03T12:00:00+00:00"},
    }
    assert product["storageTempRequirements"] == {
        "high": {"value": -120.0, "unit": "°C", "system": "http://unitsofmeasure.org", "code": "Cel"}
    }
    assert product["biologicalSourceEvent"] == {
        "system": "https://www.isbt128.org/uri/DonationIdentificationNumber",
        "value": DIN,
    }


def test_each_bag_is_a_division_of_the_product_with_its_fate() -> None:
    bundle = export(infused_history())
    product = next(p for p in resources(bundle, "BiologicallyDerivedProduct") if "parent" not in p)
    bags = {b["division"]: b for b in resources(bundle, "BiologicallyDerivedProduct") if "parent" in b}
    assert set(bags) == {"B1", "B2"}
    assert bags["B1"]["parent"] == [{"reference": f"urn:uuid:{product['id']}", "type": "BiologicallyDerivedProduct"}]
    assert bags["B1"]["identifier"] == [{"system": "urn:custody-ledger:bag", "value": "B1"}]
    assert bags["B1"]["property"][0]["valueString"] == "infused"
    assert bags["B1"]["productStatus"]["code"] == "unavailable"
    assert bags["B2"]["property"][0]["valueString"] == "dispensed"  # went to the unit with B1, never thawed
    assert product["productStatus"]["code"] == "unavailable"  # infused: custody has ended


def test_the_patient_is_the_pseudonym_and_nothing_else() -> None:
    bundle = export(infused_history())
    (patient,) = resources(bundle, "Patient")
    assert set(patient) == {"resourceType", "id", "identifier"}
    assert patient["identifier"] == [{"system": "urn:custody-ledger:patient-pseudonym", "value": PSEUDONYM}]
    text = json.dumps(bundle)
    for identity_key in ('"name"', '"birthDate"', '"gender"', '"address"', '"telecom"', "IPP-"):
        assert identity_key not in text


def test_apheresis_infusion_and_dispense() -> None:
    bundle = export(infused_history())
    patient_ref = {"reference": f"urn:uuid:{resources(bundle, 'Patient')[0]['id']}", "type": "Patient"}
    apheresis, infusion = resources(bundle, "Procedure")
    assert apheresis["code"]["coding"][0]["code"] == "ApheresisCollected"
    assert apheresis["identifier"] == [{"system": "https://www.isbt128.org/uri/DonationIdentificationNumber",
                                        "value": DIN}]  # fmt: skip
    assert apheresis["occurrencePeriod"] == {"start": "2026-03-03T08:00:00+00:00", "end": "2026-03-03T12:00:00+00:00"}
    assert apheresis["subject"] == patient_ref
    assert apheresis["performer"] == [
        {"actor": {"identifier": {"system": "urn:custody-ledger:username", "value": "nina"}, "display": "Nina Nurse"}}
    ]
    assert infusion["status"] == "completed"
    assert infusion["occurrencePeriod"] == {"start": "2026-03-11T09:10:00+00:00", "end": "2026-03-11T09:25:00+00:00"}
    bag_b1 = next(b for b in resources(bundle, "BiologicallyDerivedProduct") if b.get("division") == "B1")
    assert infusion["used"] == [{"reference": {"reference": f"urn:uuid:{bag_b1['id']}",
                                               "type": "BiologicallyDerivedProduct"}}]  # fmt: skip
    (dispense,) = resources(bundle, "BiologicallyDerivedProductDispense")
    assert dispense["status"] == "issued"
    assert dispense["patient"] == patient_ref
    assert dispense["whenHandedOver"] == "2026-03-09T08:00:00+00:00"
    assert dispense["destination"] == {"display": "Haematology ward", "type": "Location"}


def test_a_graded_crs_is_an_observation_of_the_patient() -> None:
    bundle = export(infused_history())
    (crs,) = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "crs"]
    assert crs["code"]["coding"][0]["system"] == "urn:custody-ledger:adverse-event-category"
    assert crs["valueInteger"] == 2
    assert crs["method"] == {"text": "ASTCT consensus grading (1 to 4)"}
    assert crs["note"] == [{"text": "fever, hypotension"}]
    assert crs["subject"]["type"] == "Patient"


def test_each_step_has_a_provenance_whose_signature_is_the_stored_one() -> None:
    history = infused_history()
    bundle = export(history)
    provenances = resources(bundle, "Provenance")
    assert [p["activity"]["coding"][0]["code"] for p in provenances] == [e.type for e in history]
    public = Ed25519PublicKey.from_public_bytes(KEY.public_key)
    for envelope, provenance in zip(history, provenances, strict=True):
        (signature,) = provenance["signature"]
        data = base64.b64decode(signature["data"])
        assert data == base64.b64decode(envelope.signature) and len(data) == 64
        public.verify(data, signing_message(bytes.fromhex(envelope.hash)))
        extensions = {e["url"]: e for e in provenance["extension"]}
        assert extensions["urn:custody-ledger:fhir:event-hash"]["valueString"] == envelope.hash
        assert extensions["urn:custody-ledger:fhir:event-version"]["valueInteger"] == envelope.version
        assert extensions["urn:custody-ledger:fhir:key-id"]["valueString"] == KEY.key_id
        assert signature["sigFormat"] == "application/octet-stream"
        assert signature["when"] == provenance["recorded"]


def test_a_provenance_names_signer_time_and_meaning() -> None:
    history = infused_history()
    dispensed = next(p for p in resources(export(history), "Provenance")
                     if p["activity"]["coding"][0]["code"] == "Dispensed")  # fmt: skip
    who = {"identifier": {"system": "urn:custody-ledger:username", "value": "phil"}, "display": "Phil Pharmacist"}
    assert dispensed["agent"] == [
        {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                                 "code": "verifier"}], "text": "verifier"},
            "role": [{"text": "pharmacist"}],
            "who": who,
        }
    ]  # fmt: skip
    assert dispensed["occurredDateTime"] == "2026-03-09T08:00:00+00:00"
    assert dispensed["recorded"] == "2026-03-09T08:05:00+00:00"
    assert dispensed["signature"][0]["type"] == [
        {"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.5", "display": "Verification Signature"},
        {"system": "urn:custody-ledger:signature-meaning", "code": "verified"},
    ]
    assert dispensed["signature"][0]["who"] == who
    (dispense,) = resources(export(history), "BiologicallyDerivedProductDispense")
    assert dispensed["target"] == [{"reference": f"urn:uuid:{dispense['id']}",
                                    "type": "BiologicallyDerivedProductDispense"}]  # fmt: skip
    first = resources(export(history), "Provenance")[0]
    assert not any(e["url"].endswith("previous-hash") for e in first["extension"])
    second = resources(export(history), "Provenance")[1]
    assert {"url": "urn:custody-ledger:fhir:previous-hash", "valueString": history[0].hash} in second["extension"]


def test_the_qc_record_provenance_targets_its_observations() -> None:
    bundle = export(sealed(manufactured(OUT_OF_SPEC_QC)))
    qc_provenance = resources(bundle, "Provenance")[4]
    assert qc_provenance["activity"]["coding"][0]["code"] == "QcResultsRecorded"
    observation_urls = {f"urn:uuid:{o['id']}" for o in resources(bundle, "Observation")}
    assert {target["reference"] for target in qc_provenance["target"]} == observation_urls


def test_the_export_is_the_same_twice_but_for_its_timestamp() -> None:
    history = infused_history()
    first = fhir_bundle(PRODUCT, history, Catalogue.default(), T0)
    again = fhir_bundle(PRODUCT, history, Catalogue.default(), T0 + timedelta(days=1))
    assert {**first, "timestamp": None} == {**again, "timestamp": None}
    assert UUID(first["id"])


def test_an_msc_dose_is_identified_by_coi_donor_din_and_sec_and_expires_with_it() -> None:
    enrolment = {**ENROLMENT, "product_kind": "msc", "product_code": "MSC-BANK", "batch_id": str(UUID(int=7)),
                 "dose_number": 2, "sec": "FR0001230000000000001E000012300220271231"}  # fmt: skip
    history = sealed([("ProductEnrolled", enrolment, PHYSICIAN, "performed")])
    bank = {"name": "MSC bank", "kind": "msc", "storage_max_c": -150, "thaw_to_infusion_min": 60}
    catalogue = Catalogue.from_mapping({"MSC-BANK": {**bank, "lymphodepletion_days": None}})
    bundle = fhir_bundle(PRODUCT, history, catalogue, T0, donor_din="A999921123456")
    (product,) = resources(bundle, "BiologicallyDerivedProduct")
    get_fhir_model_class("BiologicallyDerivedProduct").model_validate(product)
    assert product["identifier"] == [
        {"system": "urn:custody-ledger:coi", "value": COI.value},
        {"system": "https://www.isbt128.org/uri/DonationIdentificationNumber", "value": "A999921123456"},
        {"system": "urn:custody-ledger:sec", "value": "FR0001230000000000001E000012300220271231"},
    ]
    assert product["expirationDate"] == "2027-12-31"
    assert product["productStatus"]["code"] == "available"  # a dose starts released with its batch
    assert {"type": {"coding": [{"system": "urn:custody-ledger:product-property", "code": "dose"}],
                     "text": "Dose of the bank batch"}, "valueString": "2"} in product["property"]  # fmt: skip
    assert resources(bundle, "Observation") == []  # a bank dose's QC is its batch's

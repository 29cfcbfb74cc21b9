"""The vocabulary of the FHIR R5 export: identifier systems, code systems, and the small shapes every resource uses.

A receiving system must be able to tell a COI from a DIN, a pseudonym from an identity,
and the ledger's own signature meaning from the HL7 one it maps to. Where HL7 or ICCBBA
publish a system it is used (ISBT 128 DIN, v3 ObservationInterpretation, UCUM, ASTM E1762
signature types); a fact only this ledger defines gets a ``urn:custody-ledger:`` name.
docs/fhir.md lists every system and mapping.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

FHIR_NAMESPACE = UUID("2d7bfe03-8aa5-4df3-b0e6-dabe218b1b10")
"""Fixed forever: exported resource ids are uuid5(FHIR_NAMESPACE, "<product id>/<resource key>"), so exporting a
product twice gives the same ids and a receiver can update rather than duplicate."""

LEDGER = "urn:custody-ledger:"
COI = LEDGER + "coi"
SEC = LEDGER + "sec"
BAG = LEDGER + "bag"
LOT = LEDGER + "lot"
PSEUDONYM = LEDGER + "patient-pseudonym"
USERNAME = LEDGER + "username"
EVENT_TYPE = LEDGER + "event-type"
SIGNATURE_MEANING = LEDGER + "signature-meaning"
PRODUCT_CODE = LEDGER + "product-code"
PRODUCT_PROPERTY = LEDGER + "product-property"
QC_TEST = LEDGER + "qc-test"
ADVERSE_EVENT_CATEGORY = LEDGER + "adverse-event-category"
EVENT_HASH = LEDGER + "fhir:event-hash"
PREVIOUS_HASH = LEDGER + "fhir:previous-hash"
LEDGER_VERSION = LEDGER + "fhir:event-version"
KEY_ID = LEDGER + "fhir:key-id"

DIN = "https://www.isbt128.org/uri/DonationIdentificationNumber"
"""ISBT 128 DIN, the system HL7's own BiologicallyDerivedProduct example uses."""
PRODUCT_STATUS = "http://hl7.org/fhir/biologicallyderived-product-status"
PRODUCT_CATEGORY = "http://hl7.org/fhir/product-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
UCUM = "http://unitsofmeasure.org"

UCUM_UNITS = {"%": "%", "°C": "Cel"}
"""Units the ledger records whose UCUM code is certain; any other unit travels as text only."""

# The ledger's signature meanings (domain.events.Meaning, 21 CFR Part 11 §11.50) as ASTM E1762 signature types and
# Provenance participant types; the ledger's own meaning travels beside them, so nothing is lost in the mapping.
ASTM_SIGNATURES = {
    "performed": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    "verified": ("1.2.840.10065.1.12.1.5", "Verification Signature"),
    "witnessed": ("1.2.840.10065.1.12.1.9", "Event Witness Signature"),
    "reviewed": ("1.2.840.10065.1.12.1.13", "Review Signature"),
    "approved": ("1.2.840.10065.1.12.1.6", "Validation Signature"),
    "released": ("1.2.840.10065.1.12.1.6", "Validation Signature"),
    "requested": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    "received": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    "recorded": ("1.2.840.10065.1.12.1.4", "Transcriptionist/Recorder Signature"),
    "authored": ("1.2.840.10065.1.12.1.1", "Author's Signature"),
}
PARTICIPANTS = {
    "performed": "performer",
    "verified": "verifier",
    "witnessed": "verifier",
    "reviewed": "verifier",
    "approved": "attester",
    "released": "attester",
    "requested": "author",
    "received": "custodian",
    "recorded": "enterer",
    "authored": "author",
}


def resource_id(product_id: UUID, key: str) -> str:
    """A resource's stable id within one product's export."""
    return str(uuid5(FHIR_NAMESPACE, f"{product_id}/{key}"))


def reference(resource: dict[str, Any]) -> dict[str, Any]:
    """A reference to a resource of the same bundle (its fullUrl is ``urn:uuid:<id>``)."""
    return {"reference": f"urn:uuid:{resource['id']}", "type": resource["resourceType"]}


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """One Coding; ``display`` only when there is one."""
    return {"system": system, "code": code, **({"display": display} if display else {})}


def concept(system: str, code: str, text: str) -> dict[str, Any]:
    """A CodeableConcept of one coding, with the words a reader sees."""
    return {"coding": [coding(system, code)], "text": text}


def identifier(system: str, value: str) -> dict[str, Any]:
    """An Identifier."""
    return {"system": system, "value": value}


def quantity(value: float, unit: str | None) -> dict[str, Any]:
    """A Quantity, coded in UCUM when the unit's code is certain."""
    shown: dict[str, Any] = {"value": value}
    if unit:
        shown["unit"] = unit
        if unit in UCUM_UNITS:
            shown.update(system=UCUM, code=UCUM_UNITS[unit])
    return shown


def when(moment: datetime) -> str:
    """A FHIR dateTime/instant: ISO 8601 with its offset, as the ledger stores times."""
    return moment.isoformat()


def signer(user_id: str, name: str) -> dict[str, Any]:
    """Who signed: their printed name and their username, never a resource of their own."""
    return {"identifier": identifier(USERNAME, user_id), "display": name}

"""The product, its bags and its patient as FHIR R5 resources: BiologicallyDerivedProduct and a pseudonymous Patient.

The patient travels as the pseudonym only (README "Patient identity"): the Patient resource
carries one identifier in the pseudonym system and nothing else, never a name, birth date or
hospital number, so an export can leave the hospital without revealing who was treated.
The product is identified by its COI, its collections' DINs (a bank dose: its donor's DIN) and,
for an MSC dose that has one, its Single European Code (domain/sec_code.py); each bag of the
lot is a BiologicallyDerivedProduct of its own whose parent is the product.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.catalogue import CatalogueEntry
from domain.errors import InvalidInput
from domain.events import EventRecord
from domain.product import TherapyProduct
from domain.product_bags import bag_fates
from domain.sec_code import parse_sec
from projections import fhir_terms as t

UNAVAILABLE_STATES = frozenset({"infused", "not_infused", "rejected", "destroyed", "returned"})
USED_FATES = frozenset({"infused", "destroyed", "returned"})


@dataclass(frozen=True)
class ProductFacts:
    """What the product resources are built from: the replayed product, its history and its catalogue entry."""

    product_id: UUID
    product: TherapyProduct
    records: Sequence[EventRecord]
    entry: CatalogueEntry | None
    donor_din: str | None = None

    @property
    def enrolment(self) -> Mapping[str, Any]:
        """The enrolment's payload (the history opens with it)."""
        return self.records[0].payload


def patient(facts: ProductFacts) -> dict[str, Any]:
    """The patient as their pseudonym (every enrolment names one), and nothing else."""
    pseudonym = facts.product.patient_pseudonym
    return {
        "resourceType": "Patient",
        "id": t.resource_id(facts.product_id, "patient"),
        "identifier": [t.identifier(t.PSEUDONYM, pseudonym)],
    }


def _status(facts: ProductFacts) -> str:
    """Available to be given: released, not on hold, not used up; anything else is unavailable."""
    product = facts.product
    on_hold = product.quarantined or product.suspended or product.recalled
    state = str(product.state) if product.state else ""
    return "available" if product.released and not on_hold and state not in UNAVAILABLE_STATES else "unavailable"


def _dins(facts: ProductFacts) -> list[str]:
    dins = [collection.din for collection in facts.product.collections]
    return dins or ([facts.donor_din] if facts.donor_din else [])


def _common(facts: ProductFacts, status: str) -> dict[str, Any]:
    """What the product and each of its bags share: category, code, status, storage, source donation."""
    product = facts.product
    name = facts.entry.name if facts.entry is not None else None
    shared: dict[str, Any] = {
        "productCategory": t.coding(t.PRODUCT_CATEGORY, "cells", "Cells"),
        "productCode": {
            "coding": [t.coding(t.PRODUCT_CODE, product.product_code, name)],
            "text": name or product.product_code,
        },
        "productStatus": t.coding(t.PRODUCT_STATUS, status),
    }
    dins = _dins(facts)
    if dins:
        latest = product.latest_collection
        shared["biologicalSourceEvent"] = t.identifier(t.DIN, latest.din if latest is not None else dins[-1])
    if facts.entry is not None and facts.entry.storage_max_c is not None:
        shared["storageTempRequirements"] = {"high": t.quantity(facts.entry.storage_max_c, "°C")}
    expires = _sec_expiry(facts.enrolment.get("sec"))
    if expires is not None:
        shared["expirationDate"] = expires
    return shared


def _sec_expiry(sec: object) -> str | None:
    """The expiry date a dose's SEC carries (None without one, or for a code this version cannot read)."""
    if not isinstance(sec, str):
        return None
    try:
        expires = parse_sec(sec).expires_on
    except InvalidInput:
        return None
    return None if expires is None else expires.isoformat()


def _collection(facts: ProductFacts, patient_resource: dict[str, Any]) -> dict[str, Any] | None:
    """The latest apheresis: collected from the patient, over its start and end."""
    applied = [r for r in facts.records if r.type == "ApheresisCollected"]
    if not applied:
        return None
    last = applied[-1].payload
    return {
        "source": t.reference(patient_resource),
        "collectedPeriod": {"start": last["started_at"], "end": last["ended_at"]},
    }


def _property(code: str, text: str, value: str) -> dict[str, Any]:
    return {"type": t.concept(t.PRODUCT_PROPERTY, code, text), "valueString": value}


def product_resource(facts: ProductFacts, patient_resource: dict[str, Any]) -> dict[str, Any]:
    """The product: its identifiers (COI, DINs, SEC), code, status, collection, storage limit, lot and state."""
    product = facts.product
    identifiers = [t.identifier(t.COI, product.coi), *(t.identifier(t.DIN, din) for din in _dins(facts))]
    sec = facts.enrolment.get("sec")
    if isinstance(sec, str):
        identifiers.append(t.identifier(t.SEC, sec))
    resource: dict[str, Any] = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": t.resource_id(facts.product_id, "product"),
        "identifier": identifiers,
        **_common(facts, _status(facts)),
    }
    collection = _collection(facts, patient_resource)
    if collection is not None:
        resource["collection"] = collection
    started = [r for r in facts.records if r.type == "ManufacturingStarted"]
    if started:
        resource["processingFacility"] = [{"display": str(started[-1].payload["site"]), "type": "Organization"}]
    properties = [_property("state", "Custody state", str(product.state))] if product.state else []
    if product.lot:
        properties.append(_property("lot", "Lot", product.lot))
    if product.dose_number is not None:
        properties.append(_property("dose", "Dose of the bank batch", str(product.dose_number)))
    if properties:
        resource["property"] = properties
    return resource


def bag_resources(facts: ProductFacts, product_resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each bag of the lot, by bag id: identified by its label, a division of the product, with its fate."""
    bags: dict[str, dict[str, Any]] = {}
    status = product_resource["productStatus"]["code"]
    for bag, fate in bag_fates(facts.product).items():
        bags[bag] = {
            "resourceType": "BiologicallyDerivedProduct",
            "id": t.resource_id(facts.product_id, f"bag/{bag}"),
            "identifier": [t.identifier(t.BAG, bag)],
            "division": bag,
            "parent": [t.reference(product_resource)],
            **_common(facts, "unavailable" if fate in USED_FATES else status),
            "property": [_property("fate", "What became of the bag", fate)],
        }
    return bags

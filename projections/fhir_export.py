"""One product's signed history as a FHIR R5 Bundle (type ``collection``), for systems that speak FHIR.

The bundle is rebuilt from the product's replayed history each time it is asked for
(``TherapyProduct.replay``, as the status is), so it can never say more or other than the
ledger: the product and each bag (BiologicallyDerivedProduct), the patient as a pseudonym
(Patient), apheresis and infusion (Procedure), the dispense
(BiologicallyDerivedProductDispense), QC results against the release panel and graded
adverse events (Observation), and one Provenance per signed step carrying its signer, its
meaning, its hash and its signature. docs/fhir.md is the mapping, fact by fact. The offline
verification bundle (docs/bundle-format.md) stays the format that proves the history; this
one carries the proof along with data other systems can read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.catalogue import Catalogue
from domain.events import EventRecord
from domain.product import TherapyProduct
from domain.release_panel import test_key
from ledger.envelope import Envelope
from ledger.service import CustodyLedger
from projections import fhir_observations as observations
from projections import fhir_product as products
from projections import fhir_steps as steps
from projections import fhir_terms as t
from projections.fhir_provenance import provenance
from projections.qc_details import qc_panel

Resource = dict[str, Any]


class ProductNotFound(Exception):
    """No product has the id asked for."""


def export_fhir(ledger: CustodyLedger, product_id: UUID) -> Resource:
    """The product's FHIR bundle as of now; ProductNotFound when no product has that id.

    A stored history this version cannot replay raises what the replay raised (LookupError, TypeError,
    ValueError, AttributeError): the caller says so, distinct from a product that does not exist.
    """
    history = ledger.history(product_id)
    if not history or history[0].body.get("aggregate_kind") != "product" or history[0].type != "ProductEnrolled":
        raise ProductNotFound(f"no product has the id {product_id}")
    return fhir_bundle(product_id, history, ledger.catalogue, ledger.clock.now(), _donor_din(ledger, history[0]))


def _donor_din(ledger: CustodyLedger, enrolment: Envelope) -> str | None:
    """A bank dose's source donation: the DIN its batch was registered under."""
    batch_id = enrolment.body["payload"].get("batch_id")
    if not batch_id:
        return None
    registered = [e for e in ledger.history(UUID(str(batch_id))) if e.type == "BatchRegistered"]
    return str(registered[0].body["payload"]["donor_din"]) if registered else None


def fhir_bundle(
    product_id: UUID, history: Sequence[Envelope], catalogue: Catalogue, now: datetime, donor_din: str | None = None
) -> Resource:
    """The Bundle of one product's signed ``history`` (oldest first), stamped ``now``."""
    records = [envelope.to_record() for envelope in history]
    product = TherapyProduct.replay(product_id, records)
    entry = catalogue.get(product.product_code) if product.product_code in catalogue else None
    facts = products.ProductFacts(product_id, product, records, entry, donor_din)
    patient = products.patient(facts)
    product_resource = products.product_resource(facts, patient)
    bags = products.bag_resources(facts, product_resource)
    produced: dict[int, list[Resource]] = {}
    step_resources = _steps(product_id, records, patient, product_resource, bags, produced)
    qc = _qc_observations(product_id, product, records, catalogue, product_resource, produced)
    trail = [
        provenance(product_id, envelope, produced.get(envelope.version) or [product_resource], patient)
        for envelope in history
    ]
    resources = [patient, product_resource, *bags.values(), *step_resources, *qc, *trail]
    return {
        "resourceType": "Bundle",
        "id": t.resource_id(product_id, "bundle"),
        "type": "collection",
        "timestamp": t.when(now),
        "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in resources],
    }


def _steps(
    product_id: UUID,
    records: Sequence[EventRecord],
    patient: Resource,
    product: Resource,
    bags: dict[str, Resource],
    produced: dict[int, list[Resource]],
) -> list[Resource]:
    """The resources of the clinical steps, noting under each step's version what it produced."""
    builders: dict[str, Callable[[EventRecord], Resource]] = {
        "ApheresisCollected": lambda r: steps.apheresis(product_id, r, patient),
        "Dispensed": lambda r: steps.dispense(product_id, r, patient, product),
        "Infused": lambda r: steps.infusion(product_id, r, patient, _bags(r.payload["bag_ids"], bags, product)),
        "NotInfused": lambda r: steps.not_infused(product_id, r, patient, product),
        "AdverseEventRecorded": lambda r: observations.adverse_event_observation(product_id, r, patient, product),
    }
    made: list[Resource] = []
    for record in records:
        if record.type == "ProductEnrolled":
            produced[record.version] = [product, patient]
        elif record.type == "ManufacturingCompleted":
            produced[record.version] = _bags(record.payload["bag_ids"], bags, product)
        elif record.type in builders:
            resource = builders[record.type](record)
            made.append(resource)
            produced[record.version] = [resource]
    return made


def _bags(bag_ids: Sequence[str], bags: dict[str, Resource], product: Resource) -> list[Resource]:
    """The bag resources named, or the product itself when none of them is a bag of the current lot."""
    named = [bags[bag] for bag in bag_ids if bag in bags]
    return named or [product]


def _qc_observations(
    product_id: UUID,
    product: TherapyProduct,
    records: Sequence[EventRecord],
    catalogue: Catalogue,
    product_resource: Resource,
    produced: dict[int, list[Resource]],
) -> list[Resource]:
    """The current lot's QC results in force, each noted under the QC record and every correction that made it."""
    panel = qc_panel(product, records, catalogue)
    if panel is None:
        return []
    entry = catalogue.get(product.product_code) if product.product_code in catalogue else None
    criteria = {test_key(criterion.name): criterion for criterion in (entry.release_panel if entry else ())}
    by_version = {record.version: record for record in records}
    made: list[Resource] = []
    for test in panel["tests"]:
        if test["recorded_version"] is None:
            continue
        criterion = criteria.get(test_key(test["name"])) if test["in_panel"] else None
        observation = observations.qc_observation(
            product_id, test, criterion, by_version[test["recorded_version"]], product_resource
        )
        if observation is None:
            continue
        made.append(observation)
        for version in (test["recorded_version"], *test["corrected_by"]):
            produced.setdefault(version, []).append(observation)
    return made

"""The clinical steps of a product as FHIR R5 resources: apheresis and infusion Procedures, the dispense.

Each resource is built from one signed step and carries what that step recorded: who
performed it (printed name and username), when and where, and which product or bags it
used. A product that was dispensed but not given is a Procedure with status ``not-done``
and the recorded reason, so the export never shows an infusion that did not happen.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.events import EventRecord
from projections import fhir_terms as t


def _performer(record: EventRecord) -> list[dict[str, Any]]:
    return [{"actor": t.signer(record.actor.user_id, record.actor.name)}]


def _step_code(record: EventRecord, text: str) -> dict[str, Any]:
    return t.concept(t.EVENT_TYPE, record.type, text)


def apheresis(product_id: UUID, record: EventRecord, patient: dict[str, Any]) -> dict[str, Any]:
    """One apheresis collection, identified by its DIN (the product's ``biologicalSourceEvent`` names the latest)."""
    p = record.payload
    return {
        "resourceType": "Procedure",
        "id": t.resource_id(product_id, f"procedure/{record.version}"),
        "identifier": [t.identifier(t.DIN, str(p["din"]))],
        "status": "completed",
        "code": _step_code(record, "Apheresis collection"),
        "subject": t.reference(patient),
        "occurrencePeriod": {"start": p["started_at"], "end": p["ended_at"]},
        "recorded": t.when(record.recorded_at),
        "performer": _performer(record),
        "location": {"display": str(p["site"]), "type": "Location"},
    }


def infusion(
    product_id: UUID, record: EventRecord, patient: dict[str, Any], used: list[dict[str, Any]]
) -> dict[str, Any]:
    """The infusion of the bags named, over its start and end."""
    p = record.payload
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": t.resource_id(product_id, f"procedure/{record.version}"),
        "status": "completed",
        "code": _step_code(record, "Infusion of the cell therapy product"),
        "subject": t.reference(patient),
        "occurrencePeriod": {"start": p["started_at"], "end": p["ended_at"]},
        "recorded": t.when(record.recorded_at),
        "performer": _performer(record),
        "used": [{"reference": t.reference(resource)} for resource in used],
    }
    if p.get("site"):
        resource["location"] = {"display": str(p["site"]), "type": "Location"}
    if p.get("observations"):
        resource["note"] = [{"text": str(p["observations"])}]
    return resource


def not_infused(
    product_id: UUID, record: EventRecord, patient: dict[str, Any], product: dict[str, Any]
) -> dict[str, Any]:
    """A dispensed product that was not given, and why."""
    p = record.payload
    return {
        "resourceType": "Procedure",
        "id": t.resource_id(product_id, f"procedure/{record.version}"),
        "status": "not-done",
        "statusReason": {"text": f"{p['reason']}: {p['detail']}"},
        "code": _step_code(record, "Infusion of the cell therapy product"),
        "subject": t.reference(patient),
        "occurrenceDateTime": t.when(record.occurred_at),
        "recorded": t.when(record.recorded_at),
        "performer": _performer(record),
        "used": [{"reference": t.reference(product)}],
    }


def dispense(product_id: UUID, record: EventRecord, patient: dict[str, Any], product: dict[str, Any]) -> dict[str, Any]:
    """The pharmacy's issue of the product to the unit, for its patient."""
    return {
        "resourceType": "BiologicallyDerivedProductDispense",
        "id": t.resource_id(product_id, f"dispense/{record.version}"),
        "status": "issued",
        "product": t.reference(product),
        "patient": t.reference(patient),
        "performer": _performer(record),
        "whenHandedOver": t.when(record.occurred_at),
        "destination": {"display": str(record.payload["to_unit"]), "type": "Location"},
    }

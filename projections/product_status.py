"""Product status: where each product stands, who holds it, what comes next, and what clock is running.

One row per product, recomputed from the product's history whenever an event of
it arrives. Rows hold only facts that do not depend on the reader's clock
(``state_since``, ``deadline_at``): time in state and time left are computed at
query time, so a rebuild writes exactly the rows incremental catch-up wrote.
Deadlines come from the signed catalogue; after `custody catalogue apply`, run
``custody projections rebuild`` (``check`` reports the rows it would change).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from domain.catalogue import Catalogue
from domain.events import EventRecord
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_events import Leg, Preservation
from projections.logged import LoggedEvent, instant, payload_json
from projections.product_replay import ReplayedProduct, replay_product, touched_products
from projections.projector import ProjectionFollower
from projections.view import Row, Table, View

STATUS = Table(
    "projection_product_status",
    ("product_id",),
    (
        "product_id", "coi", "product_kind", "product_code", "patient_pseudonym", "indication", "batch_id", "lot",
        "state", "state_since", "next_step", "custodian_user_id", "custodian_name", "custodian_role",
        "site", "tank", "rack", "box", "position", "shipment_id", "in_transit_to",
        "quarantined", "quarantine_reason", "suspended", "suspension_reason", "recalled", "exceptional_release",
        "open_deviation_count", "open_deviations", "deadline_kind", "deadline_at",
        "last_event_type", "last_occurred_at", "version",
    ),
)  # fmt: skip

TemperatureClassOf = Callable[[str], str | None]
"""Given a shipment id, its temperature class (the fresh window depends on it), or None if unknown."""

_NEXT: dict[S, str | None] = {
    S.ENROLLED: "ApheresisCollected",
    S.COLLECTED: "ShipmentDispatched (to_manufacturer)",
    S.IN_TRANSIT: "ShipmentReceived",
    S.RECEIVED_AT_MANUFACTURER: "ManufacturingStarted",
    S.MANUFACTURING: "ManufacturingCompleted",
    S.MANUFACTURED: "QcResultsRecorded",
    S.MANUFACTURING_FAILED: "ApheresisCollected (new collection)",
    S.QC_IN_SPEC: "ProductReleased",
    S.QC_OUT_OF_SPEC: "ExceptionalReleaseRequested or ManufacturingFailed",
    S.RELEASED: "ShipmentDispatched (to_pharmacy)",
    S.RECEIVED_AT_PHARMACY: "StoredInLN2",
    S.STORED: "Dispensed",
    S.DISPENSED: "Thawed",
    S.THAWED: "BedsideCheckPerformed",
    S.BEDSIDE_VERIFIED: "Infused",
    S.INFUSED: "FollowUpRecorded",
    S.NOT_INFUSED: "ProductDestroyed or ProductReturned",
    S.REJECTED: "ProductDestroyed or ProductReturned",
    S.DESTROYED: None,
    S.RETURNED: None,
}


def next_step(product: TherapyProduct) -> str | None:
    """The step the rules expect next: a hold must be cleared first; None once custody has ended."""
    if product.suspended:
        return "MismatchResolved"
    if product.quarantined and not product.is_terminal:
        return "QuarantineLifted"
    if product.state is None:
        return None
    if product.state == S.QC_OUT_OF_SPEC and product.exceptional_release_requested:
        return "ExceptionalReleaseApproved"
    if product.state == S.THAWED and product.bedside_performed is not None:
        return "BedsideCheckWitnessed"
    return _NEXT[product.state]


def running_deadline(
    product: TherapyProduct, catalogue: Catalogue, temperature_class_of: TemperatureClassOf
) -> tuple[str, datetime] | None:
    """The window now running: thaw-to-infusion once thawed, the fresh window while fresh cells travel."""
    if product.product_code not in catalogue:
        return None
    entry = catalogue.get(product.product_code)
    if product.state in (S.THAWED, S.BEDSIDE_VERIFIED) and product.thaw_completed_at is not None:
        if entry.thaw_to_infusion_min is None:
            return None
        return "thaw_to_infusion", product.thaw_completed_at + timedelta(minutes=entry.thaw_to_infusion_min)
    collection = product.latest_collection
    if collection is None or collection.preservation != Preservation.FRESH:
        return None
    travelling = product.state == S.IN_TRANSIT and product.shipment_leg == Leg.TO_MANUFACTURER
    if product.state != S.COLLECTED and not travelling:
        return None
    hours = entry.fresh_shipping_window_h
    if travelling and product.shipment_id and temperature_class_of(product.shipment_id) == "room_temperature":
        hours = entry.fresh_room_temperature_window_h
    return "fresh_shipping_window", collection.ended_at + timedelta(hours=hours)


def status_row(replayed: ReplayedProduct, catalogue: Catalogue, temperature_class_of: TemperatureClassOf) -> Row:
    """The status row of one replayed product."""
    p = replayed.product
    location = p.location
    deadline = running_deadline(p, catalogue, temperature_class_of)
    deviations = [{"version": version, "description": text} for version, text in sorted(p.open_deviations.items())]
    return {
        "product_id": str(p.id),
        "coi": p.coi,
        "product_kind": p.product_kind,
        "product_code": p.product_code,
        "patient_pseudonym": p.patient_pseudonym,
        "indication": p.indication,
        "batch_id": None if p.batch_id is None else str(p.batch_id),
        "lot": p.lot,
        "state": str(p.state),
        "state_since": instant(replayed.state_since),
        "next_step": next_step(p),
        "custodian_user_id": replayed.custodian.user_id,
        "custodian_name": replayed.custodian.name,
        "custodian_role": replayed.custodian.role,
        "site": None if location is None else location.site,
        "tank": None if location is None else location.tank,
        "rack": None if location is None else location.rack,
        "box": None if location is None else location.box,
        "position": None if location is None else location.position,
        "shipment_id": p.shipment_id,
        "in_transit_to": replayed.in_transit_to if p.state == S.IN_TRANSIT else None,
        "quarantined": int(p.quarantined),
        "quarantine_reason": p.quarantine_reason or None,
        "suspended": int(p.suspended),
        "suspension_reason": p.suspension_reason or None,
        "recalled": int(p.recalled),
        "exceptional_release": int(p.exceptional_release),
        "open_deviation_count": len(deviations),
        "open_deviations": payload_json(deviations),
        "deadline_kind": None if deadline is None else deadline[0],
        "deadline_at": None if deadline is None else instant(deadline[1]),
        "last_event_type": replayed.last.type,
        "last_occurred_at": instant(replayed.last.occurred_at),
        "version": replayed.last.version,
    }


def product_status(
    product_id: UUID, records: Sequence[EventRecord], catalogue: Catalogue, temperature_class_of: TemperatureClassOf
) -> Row | None:
    """The status row of a product from its records (None if they are not a product's)."""
    replayed = replay_product(product_id, records)
    return None if replayed is None else status_row(replayed, catalogue, temperature_class_of)


def temperature_classes(view: View) -> TemperatureClassOf:
    """Read a shipment's temperature class from its first event (dispatch fixes it for the journey)."""

    def lookup(shipment_id: str) -> str | None:
        try:
            first = view.history(UUID(shipment_id), 1)
        except ValueError:
            return None
        return str(first[0].payload["temperature_class"]) if first else None

    return lookup


class ProductStatusFollower(ProjectionFollower):
    """Keeps ``projection_product_status`` current."""

    name = "product-status"
    tables = (STATUS,)

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """Recompute the row of every product the batch touches, as of the batch's last version of it."""
        classes = temperature_classes(view)
        for product_id, version in touched_products(events).items():
            row = product_status(product_id, view.history(product_id, version), self.catalogue, classes)
            if row is not None:
                view.put(STATUS, row)

"""A product replayed by the domain's own fold, plus what the read models need beside its state.

Status and inventory both start from ``TherapyProduct.replay`` so a read model can
never disagree with the rules about where a product stands; this module adds
the facts the aggregate does not keep: since when it has been in its state, who
signed its last custody step, and when it last arrived somewhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.events import Actor, EventRecord
from domain.product import TherapyProduct
from projections.logged import LoggedEvent

CUSTODY_STEPS = frozenset(
    {
        "ProductEnrolled",
        "ApheresisCollected",
        "ProductShipped",
        "ProductReceived",
        "ManufacturingStarted",
        "ManufacturingCompleted",
        "ManufacturingFailed",
        "QcResultsRecorded",
        "ProductReleased",
        "ExceptionalReleaseApproved",
        "StoredInLN2",
        "Dispensed",
        "Thawed",
        "BedsideCheckPerformed",
        "BedsideCheckWitnessed",
        "Infused",
        "NotInfused",
        "ReceiptRejected",
        "ProductDestroyed",
        "ProductReturned",
    }
)
"""Steps that move or hand over the product; annotations, holds and clinical notes do not change custodian."""


@dataclass(frozen=True)
class ReplayedProduct:
    """The domain's product and the read-model facts gathered while replaying it."""

    product: TherapyProduct
    state_since: datetime
    custodian: Actor
    last: EventRecord
    arrived_at: datetime | None
    in_transit_to: str | None


def replay_product(product_id: UUID, records: Sequence[EventRecord]) -> ReplayedProduct | None:
    """Fold the records in version order; None when they do not open a product (no enrolment)."""
    if not records or records[0].type != "ProductEnrolled":
        return None
    product = TherapyProduct(product_id)
    state_since = records[0].occurred_at
    custodian = records[0].actor
    arrived_at: datetime | None = None
    in_transit_to: str | None = None
    for record in records:
        before = product.state
        product.apply(record)
        if product.state != before:
            state_since = record.occurred_at
        if record.type in CUSTODY_STEPS:
            custodian = record.actor
        if record.type == "ProductReceived":
            arrived_at, in_transit_to = record.occurred_at, None
        elif record.type == "ProductShipped":
            in_transit_to = str(record.payload["to_site"])
    return ReplayedProduct(product, state_since, custodian, records[-1], arrived_at, in_transit_to)


def touched_products(events: Sequence[LoggedEvent]) -> dict[UUID, int]:
    """The products a batch changes, each with the last version the batch brings, in first-seen order."""
    latest: dict[UUID, int] = {}
    for event in events:
        if event.kind == "product":
            latest[event.aggregate_id] = max(latest.get(event.aggregate_id, 0), event.record.version)
    return latest

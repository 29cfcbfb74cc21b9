"""Pharmacy inventory: the units on hand at each site, where they sit in LN2, and whether they may be used.

A unit is on hand from its receipt at the pharmacy until it is dispensed,
shipped, returned or destroyed. Its status says whether it may be dispensed:
``available``, or held (``suspended`` by an identity near miss, ``recalled``,
``quarantined``) with the reason. No event carries an expiry date yet, so
``expiry`` is null until one does (it is kept as a column so queries need not change).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.events import EventRecord
from domain.product import ProductState as S
from projections.logged import LoggedEvent, instant
from projections.product_replay import ReplayedProduct, replay_product, touched_products
from projections.projector import ProjectionFollower
from projections.view import Row, Table, View

INVENTORY = Table(
    "projection_inventory",
    ("product_id",),
    (
        "product_id", "site", "tank", "rack", "box", "position", "coi", "product_kind", "product_code",
        "patient_pseudonym", "lot", "batch_id", "dose_number", "state", "status", "hold_reason", "expiry",
        "on_hand_since",
    ),
)  # fmt: skip
ON_HAND = (S.RECEIVED_AT_PHARMACY, S.STORED)


def unit_status(replayed: ReplayedProduct) -> tuple[str, str | None]:
    """Whether the unit may be dispensed, and if not, why (the most serious hold first)."""
    p = replayed.product
    if p.suspended:
        return "suspended", p.suspension_reason
    if p.recalled:
        return "recalled", p.quarantine_reason or None
    if p.quarantined:
        return "quarantined", p.quarantine_reason
    return "available", None


def inventory_row(replayed: ReplayedProduct) -> Row | None:
    """The unit's inventory row, or None when it is not on hand at a pharmacy."""
    p = replayed.product
    if p.state not in ON_HAND or p.location is None:
        return None
    status, reason = unit_status(replayed)
    location = p.location
    return {
        "product_id": str(p.id),
        "site": location.site,
        "tank": location.tank,
        "rack": location.rack,
        "box": location.box,
        "position": location.position,
        "coi": p.coi,
        "product_kind": p.product_kind,
        "product_code": p.product_code,
        "patient_pseudonym": p.patient_pseudonym,
        "lot": p.lot,
        "batch_id": None if p.batch_id is None else str(p.batch_id),
        "dose_number": p.dose_number,
        "state": str(p.state),
        "status": status,
        "hold_reason": reason,
        "expiry": None,
        "on_hand_since": instant(replayed.arrived_at or replayed.state_since),
    }


def inventory_unit(product_id: UUID, records: Sequence[EventRecord]) -> Row | None:
    """The inventory row of a product from its records."""
    replayed = replay_product(product_id, records)
    return None if replayed is None else inventory_row(replayed)


class InventoryFollower(ProjectionFollower):
    """Keeps ``projection_inventory`` current."""

    name = "inventory"
    tables = (INVENTORY,)

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """Add, update or remove the unit of every product the batch touches."""
        for product_id, version in touched_products(events).items():
            row = inventory_unit(product_id, view.history(product_id, version))
            if row is None:
                view.delete(INVENTORY, (str(product_id),))
            else:
                view.put(INVENTORY, row)

"""The planning worklist: upcoming apheresis, manufacturing slot and planned infusion days of the open orders.

Read from the orders themselves, each patient's pathway replayed when asked (the patient
timeline names which pathways ever had an order), so a rescheduled or cancelled order is
shown as it now stands and never as it was. Patients appear by pseudonym only.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from domain.pathway import PatientPathway
from ledger.service import CustodyLedger
from projections.timeline import TIMELINE, TimelineFollower

ORDER_EVENTS = ("TreatmentOrdered", "TreatmentOrderRescheduled", "TreatmentOrderCancelled")
APHERESIS, SLOT, INFUSION = "apheresis", "manufacturing_slot", "infusion"
_ORDER_OF_KINDS = {APHERESIS: 0, SLOT: 1, INFUSION: 2}


def schedule(ledger: CustodyLedger, since: date) -> list[dict[str, Any]]:
    """Every planned day on or after ``since`` of every open order, by day, then apheresis, slot, infusion."""
    rows: list[dict[str, Any]] = []
    for pathway_id in _ordered_pathways(ledger):
        pathway = ledger.load(pathway_id)
        if not isinstance(pathway, PatientPathway) or pathway.order is None:
            continue
        order = pathway.order
        planned = ((APHERESIS, order.apheresis_on), (SLOT, order.slot_on), (INFUSION, order.infusion_on))
        for kind, day in planned:
            if day is not None and date.fromisoformat(day) >= since:
                rows.append({
                    "day": day, "kind": kind, "patient_pseudonym": pathway.pseudonym,
                    "manufacturer": order.manufacturer, "order_version": order.version,
                })  # fmt: skip
    return sorted(rows, key=lambda r: (r["day"], _ORDER_OF_KINDS[r["kind"]], r["patient_pseudonym"]))


def _ordered_pathways(ledger: CustodyLedger) -> list[UUID]:
    store = ledger.store
    TimelineFollower(store).catch_up()
    marks = ", ".join(["%s"] * len(ORDER_EVENTS))
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT DISTINCT product_id FROM {TIMELINE.name} WHERE event_type IN ({marks}) ORDER BY product_id",
            ORDER_EVENTS,
        )
        return [UUID(str(row["product_id"])) for row in cursor.fetchall()]

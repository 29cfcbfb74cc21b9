"""Treatment orders: after the pair's co-signed decision, the apheresis day, the manufacturer and a slot booked.

An order belongs to the patient's pathway (it precedes any product); its slot belongs to
the manufacturer's schedule (domain/manufacturing_schedule.py), where capacity is counted.
The order, its rescheduling and its cancellation are each a signed fact, and each books or
frees the slot in the same transaction, so an order never holds a slot the schedule does
not show, nor the reverse. Rules are in treatment_order_rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import DateText, FreeText
from domain.spec import EventSpec

PATHWAY = "pathway"


@dataclass(frozen=True)
class TreatmentOrdered:
    """The physician orders the product: apheresis on a day, made by a manufacturer in a slot starting on a day."""

    manufacturer: str
    apheresis_on: DateText
    slot_on: DateText
    infusion_on: DateText | None = None
    """The infusion day planned, shown on the worklists; the product's own steps decide the real one."""


@dataclass(frozen=True)
class TreatmentOrderRescheduled:
    """New days for the open order (same manufacturer): the old slot is given back, a new one booked."""

    apheresis_on: DateText
    slot_on: DateText
    reason: FreeText
    infusion_on: DateText | None = None


@dataclass(frozen=True)
class TreatmentOrderCancelled:
    """The open order is cancelled; its slot is given back."""

    reason: FreeText


@dataclass(frozen=True)
class Order:
    """The pathway's open order, as its facts left it."""

    manufacturer: str
    apheresis_on: str
    slot_on: str
    infusion_on: str | None
    version: int


_ORDERERS = frozenset({R.PHYSICIAN})
ORDER_SPECS = (
    EventSpec(
        "TreatmentOrdered",
        PATHWAY,
        TreatmentOrdered,
        (M.REQUESTED, M.APPROVED),
        _ORDERERS,
        "A physician orders the product once the pair's decision is co-signed and consent signed: the apheresis "
        "day, the manufacturer, and a manufacturing slot booked against its declared capacity (refused when full).",
    ),
    EventSpec(
        "TreatmentOrderRescheduled",
        PATHWAY,
        TreatmentOrderRescheduled,
        (M.REQUESTED, M.APPROVED),
        _ORDERERS,
        "New apheresis and slot days for the open order, with the reason: the old slot is freed, a new one booked.",
    ),
    EventSpec(
        "TreatmentOrderCancelled",
        PATHWAY,
        TreatmentOrderCancelled,
        (M.REQUESTED, M.APPROVED),
        _ORDERERS,
        "Cancels the open order, with the reason; its manufacturing slot is freed.",
    ),
)

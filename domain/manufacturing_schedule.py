"""A manufacturer's schedule: the manufacturing slots it declares, and the treatment orders booked into them.

One aggregate per manufacturer (its id derived from the manufacturer's site code), so every
booking of that manufacturer's slots lands on the same history: two orders racing for the
last slot of a day both decide on the same version, and the store lets only one of them
append (the other gets ``ConcurrentChange`` and is told the slot is gone when it tries
again). Bookings are recorded by the domain as the consequence of an order, its
rescheduling or its cancellation on the patient's pathway (domain/treatment_order.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import NON_EMPTY, Bounds, DateText, IdText, parse_date
from domain.spec import EventSpec

KIND = "manufacturing_schedule"
SCHEDULE_NAMESPACE = UUID("3f9a1c62-8e0b-4d57-a1c4-5b2e7d9f0a13")


def schedule_id_for(manufacturer: str) -> UUID:
    """A manufacturer's schedule id, derived from its site code so an order naming it finds its slots."""
    return uuid5(SCHEDULE_NAMESPACE, manufacturer.strip())


@dataclass(frozen=True)
class SlotCapacity:
    """How many lots the manufacturer can start on a day."""

    starts_on: DateText
    capacity: Annotated[int, Bounds(low=1, high=1000)]


@dataclass(frozen=True)
class ManufacturingCapacityDeclared:
    """The manufacturer declares (or changes) its slots, day by day; a day declared again takes the new figure."""

    manufacturer: str
    slots: Annotated[list[SlotCapacity], NON_EMPTY]


@dataclass(frozen=True)
class ManufacturingSlotBooked:
    """A patient's order holds one slot of the day (derived from TreatmentOrdered or TreatmentOrderRescheduled)."""

    pathway_id: IdText
    starts_on: DateText


@dataclass(frozen=True)
class ManufacturingSlotReleased:
    """The slot is free again (derived from TreatmentOrderRescheduled or TreatmentOrderCancelled)."""

    pathway_id: IdText
    starts_on: DateText


class ManufacturingSchedule(Aggregate):
    """One manufacturer's declared capacity and the orders holding its slots."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.manufacturer = ""
        self.capacity: dict[date, int] = {}
        self.booked: dict[date, set[str]] = {}

    def free_on(self, day: date) -> int:
        """Slots still free on the day (0 when none was declared)."""
        return self.capacity.get(day, 0) - len(self.booked.get(day, set()))

    def when_ManufacturingCapacityDeclared(self, record: EventRecord) -> None:
        """Each day named takes its new capacity."""
        self.manufacturer = record.payload["manufacturer"]
        for slot in record.payload["slots"]:
            self.capacity[parse_date(slot["starts_on"])] = int(slot["capacity"])

    def when_ManufacturingSlotBooked(self, record: EventRecord) -> None:
        """The order holds a slot of the day."""
        self.booked.setdefault(parse_date(record.payload["starts_on"]), set()).add(record.payload["pathway_id"])

    def when_ManufacturingSlotReleased(self, record: EventRecord) -> None:
        """The order gives its slot back."""
        self.booked.get(parse_date(record.payload["starts_on"]), set()).discard(record.payload["pathway_id"])


MANUFACTURING_CAPACITY_DECLARED = EventSpec(
    "ManufacturingCapacityDeclared",
    KIND,
    ManufacturingCapacityDeclared,
    (M.APPROVED, M.RECORDED),
    frozenset({R.QP}),
    "The manufacturer's Qualified Person declares how many lots it can start each day; a day "
    "cannot be cut below the orders already booked on it.",
    singleton=True,
)
MANUFACTURING_SLOT_BOOKED = EventSpec(
    "ManufacturingSlotBooked",
    KIND,
    ManufacturingSlotBooked,
    (M.RECORDED,),
    frozenset({R.PHYSICIAN}),
    "A treatment order holds a manufacturing slot; recorded by recording TreatmentOrdered or "
    "TreatmentOrderRescheduled.",
    derived_from="TreatmentOrdered",
)
MANUFACTURING_SLOT_RELEASED = EventSpec(
    "ManufacturingSlotReleased",
    KIND,
    ManufacturingSlotReleased,
    (M.RECORDED,),
    frozenset({R.PHYSICIAN}),
    "A treatment order gives its slot back; recorded by recording TreatmentOrderRescheduled or "
    "TreatmentOrderCancelled.",
    derived_from="TreatmentOrderCancelled",
)
SCHEDULE_SPECS = (MANUFACTURING_CAPACITY_DECLARED, MANUFACTURING_SLOT_BOOKED, MANUFACTURING_SLOT_RELEASED)

"""The rules of treatment orders and manufacturing slots.

An order comes after the pair's co-signed decision and consent (the same gate as any
treatment step), one open order per patient; its days run forward — apheresis not before
the order, the slot not before the apheresis, the planned infusion after the slot — and
its slot must be free in the manufacturer's declared capacity. Freeing and booking happen
in the order's own transaction (the events land on the manufacturer's schedule).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from uuid import UUID

from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.events import NewEvent
from domain.manufacturing_schedule import (
    MANUFACTURING_SLOT_BOOKED,
    MANUFACTURING_SLOT_RELEASED,
    ManufacturingCapacityDeclared,
    ManufacturingSchedule,
    ManufacturingSlotBooked,
    ManufacturingSlotReleased,
    schedule_id_for,
)
from domain.pathway import PatientPathway
from domain.pathway_gates import check_treatment_allowed
from domain.payloads import parse_date
from domain.site import Activity
from domain.site_gates import check_covers, registered_site
from domain.spec import Command, Decider
from domain.treatment_order import Order, TreatmentOrderCancelled, TreatmentOrdered, TreatmentOrderRescheduled


def declare_capacity(cmd: Command) -> list[NewEvent]:
    """A registered manufacturer, accredited for processing, on its own schedule; no day cut below its bookings."""
    payload: ManufacturingCapacityDeclared = cmd.payload
    expected = schedule_id_for(payload.manufacturer)
    if cmd.aggregate_id != expected:
        raise InvalidInput(
            f"aggregate_id {cmd.aggregate_id} is not the schedule of {payload.manufacturer!r} ({expected}); a "
            "schedule's id is derived from the manufacturer's site code",
            field="aggregate_id",
            rule="aggregate_id_mismatch",
        )
    site = registered_site(cmd.load, payload.manufacturer, "payload.manufacturer")
    check_covers(site, Activity.PROCESSING, cmd.occurred_at, "payload.manufacturer")
    schedule = cmd.current if isinstance(cmd.current, ManufacturingSchedule) else None
    for index, slot in enumerate(payload.slots):
        day = parse_date(slot.starts_on, field=f"payload.slots[{index}].starts_on")
        booked = len(schedule.booked.get(day, set())) if schedule else 0
        if slot.capacity < booked:
            raise RuleViolation(
                f"payload.slots[{index}].capacity {slot.capacity} is below the {booked} orders already booked on "
                f"{day.isoformat()}: reschedule or cancel orders first",
                field=f"payload.slots[{index}].capacity",
                rule="capacity_below_bookings",
            )
    return [cmd.record()]


def order_treatment(cmd: Command) -> list[NewEvent]:
    """One open order per CAR-T patient, after the co-signed decision and consent, in a free slot."""
    pathway = _pathway(cmd)
    payload: TreatmentOrdered = cmd.payload
    check_treatment_allowed(pathway, "TreatmentOrdered")
    if pathway.proposal is not None and pathway.proposal.therapy != "car_t":
        raise OutOfOrder(
            f"patient {pathway.pseudonym}'s decided therapy is {pathway.proposal.therapy}: an order books an "
            "apheresis and a manufacturing slot for autologous CAR-T cells (an MSC dose is allocated from a bank)",
            rule="car_t_only",
        )
    if pathway.order is not None:
        raise OutOfOrder(
            f"patient {pathway.pseudonym} already has an open order (version {pathway.order.version}, slot "
            f"{pathway.order.slot_on} at {pathway.order.manufacturer}): reschedule or cancel it",
            rule="order_already_open",
        )
    registered_site(cmd.load, payload.manufacturer, "payload.manufacturer")
    slot = _days(cmd, payload.apheresis_on, payload.slot_on, payload.infusion_on)
    return [cmd.record(), _book(cmd, payload.manufacturer, slot)]


def reschedule_order(cmd: Command) -> list[NewEvent]:
    """New days for the open order: the old slot freed and the new one booked in the same transaction."""
    pathway = _pathway(cmd)
    payload: TreatmentOrderRescheduled = cmd.payload
    order = _open_order(pathway, "TreatmentOrderRescheduled")
    slot = _days(cmd, payload.apheresis_on, payload.slot_on, payload.infusion_on)
    if slot == parse_date(order.slot_on):
        return [cmd.record()]
    return [cmd.record(), _release(cmd, order), _book(cmd, order.manufacturer, slot)]


def cancel_order(cmd: Command) -> list[NewEvent]:
    """The open order ends and gives its slot back."""
    pathway = _pathway(cmd)
    _: TreatmentOrderCancelled = cmd.payload
    order = _open_order(pathway, "TreatmentOrderCancelled")
    return [cmd.record(), _release(cmd, order)]


def _pathway(cmd: Command) -> PatientPathway:
    assert isinstance(cmd.current, PatientPathway)
    return cmd.current


def _open_order(pathway: PatientPathway, step: str) -> Order:
    if pathway.order is None:
        raise OutOfOrder(f"cannot record {step}: patient {pathway.pseudonym} has no open order", rule="no_open_order")
    return pathway.order


def _days(cmd: Command, apheresis_on: str, slot_on: str, infusion_on: str | None) -> date:
    """Apheresis not before the order's day, the slot not before the apheresis, the infusion after the slot."""
    apheresis = parse_date(apheresis_on, field="payload.apheresis_on")
    slot = parse_date(slot_on, field="payload.slot_on")
    if apheresis < cmd.occurred_at.date():
        raise TimeRuleViolation(
            f"payload.apheresis_on {apheresis_on} is before the order ({_day(cmd.occurred_at)}): an order plans ahead",
            field="payload.apheresis_on",
            rule="planned_in_the_past",
        )
    if slot < apheresis:
        raise TimeRuleViolation(
            f"payload.slot_on {slot_on} is before payload.apheresis_on {apheresis_on}: manufacturing starts from "
            "the collected cells",
            field="payload.slot_on",
            rule="slot_before_apheresis",
        )
    if infusion_on is not None and parse_date(infusion_on, field="payload.infusion_on") <= slot:
        raise TimeRuleViolation(
            f"payload.infusion_on {infusion_on} is not after payload.slot_on {slot_on}: the product is infused once "
            "made",
            field="payload.infusion_on",
            rule="infusion_before_slot",
        )
    return slot


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _schedule(cmd: Command, manufacturer: str) -> tuple[UUID, ManufacturingSchedule | None]:
    schedule_id = schedule_id_for(manufacturer)
    found = cmd.load(schedule_id)
    return schedule_id, found if isinstance(found, ManufacturingSchedule) else None


def _book(cmd: Command, manufacturer: str, slot: date) -> NewEvent:
    """A slot of the day, if the manufacturer declared one and it is not all taken."""
    schedule_id, schedule = _schedule(cmd, manufacturer)
    if schedule is None or slot not in schedule.capacity:
        raise NotFound(
            f"{manufacturer} has declared no manufacturing slot on {slot.isoformat()} "
            "(ManufacturingCapacityDeclared): choose a declared day",
            field="payload.slot_on",
            rule="no_manufacturing_capacity",
        )
    if schedule.free_on(slot) <= 0:
        raise RuleViolation(
            f"{manufacturer}'s {schedule.capacity[slot]} slot(s) on {slot.isoformat()} are all booked: choose "
            "another day",
            field="payload.slot_on",
            rule="slot_full",
        )
    return cmd.derive(MANUFACTURING_SLOT_BOOKED, schedule_id, ManufacturingSlotBooked(str(cmd.aggregate_id), str(slot)))


def _release(cmd: Command, order: Order) -> NewEvent:
    schedule_id = schedule_id_for(order.manufacturer)
    released = ManufacturingSlotReleased(str(cmd.aggregate_id), order.slot_on)
    return cmd.derive(MANUFACTURING_SLOT_RELEASED, schedule_id, released)


DECIDERS: Mapping[str, Decider] = {
    "ManufacturingCapacityDeclared": declare_capacity,
    "TreatmentOrdered": order_treatment,
    "TreatmentOrderRescheduled": reschedule_order,
    "TreatmentOrderCancelled": cancel_order,
}

"""Treatment orders and manufacturing slots: booked against declared capacity, never twice, freed when moved.

The manufacturer declares one slot on 20 January 2026 and two on 27 January; the lupus
patient's pair has co-signed and consent is signed (tests/unit/pathway_fixtures.py);
orders are placed on 5 January 2026.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.errors import CustodyError, InvalidInput, NotFound, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.manufacturing_schedule import ManufacturingSchedule, schedule_id_for
from domain.pathway import pathway_id_for
from tests.unit.domain_fixtures import MANUFACTURER, PHYSICIAN, QP, T0, FakeLedger
from tests.unit.pathway_fixtures import MSC_PATIENTS, PATHWAY_ID, pathway, ready_ledger, walk_pathway

SCHEDULE = schedule_id_for(MANUFACTURER)
OTHER = pathway_id_for("PSN-SECOND")


def declared() -> FakeLedger:
    ledger = ready_ledger()
    walk_pathway(ledger, pseudonym="PSN-SECOND")
    slots = [{"starts_on": "2026-01-20", "capacity": 1}, {"starts_on": "2026-01-27", "capacity": 2}]
    ledger.record("ManufacturingCapacityDeclared", SCHEDULE, {"manufacturer": MANUFACTURER, "slots": slots}, QP, T0)
    return ledger


def order(slot_on: str = "2026-01-20", apheresis_on: str = "2026-01-12", **more: Any) -> dict[str, Any]:
    return {"manufacturer": MANUFACTURER, "apheresis_on": apheresis_on, "slot_on": slot_on, **more}


def schedule(ledger: FakeLedger) -> ManufacturingSchedule:
    found = ledger.load(SCHEDULE)
    assert isinstance(found, ManufacturingSchedule)
    return found


def refuse(ledger: FakeLedger, error: type[CustodyError], field: str | None, rule: str, message: str,
           event_type: str, target: Any, payload: dict[str, Any]) -> None:  # fmt: skip
    ledger.refuse(error, field=field, rule=rule, message=message, event_type=event_type, aggregate_id=target,
                  payload=payload, actor=QP if event_type == "ManufacturingCapacityDeclared" else PHYSICIAN,
                  at=T0 + timedelta(hours=1))  # fmt: skip


def test_an_order_books_its_slot_in_the_same_facts_and_the_pathway_holds_it() -> None:
    ledger = declared()
    events = ledger.record("TreatmentOrdered", PATHWAY_ID, order(infusion_on="2026-02-15"), PHYSICIAN, T0)
    assert [(e.type, e.aggregate_id) for e in events] == [
        ("TreatmentOrdered", PATHWAY_ID), ("ManufacturingSlotBooked", SCHEDULE)
    ]  # fmt: skip
    assert events[1].payload == {"pathway_id": str(PATHWAY_ID), "starts_on": "2026-01-20"}
    held = pathway(ledger).order
    assert held is not None and (held.slot_on, held.apheresis_on, held.infusion_on) == (
        "2026-01-20", "2026-01-12", "2026-02-15"
    )  # fmt: skip
    assert (schedule(ledger).free_on(date(2026, 1, 20)), schedule(ledger).free_on(date(2026, 1, 27))) == (0, 2)


def test_the_last_slot_of_a_day_is_not_booked_twice() -> None:
    ledger = declared()
    ledger.record("TreatmentOrdered", PATHWAY_ID, order(), PHYSICIAN, T0)
    refuse(ledger, RuleViolation, "payload.slot_on", "slot_full", "1 slot(s) on 2026-01-20 are all booked",
           "TreatmentOrdered", OTHER, order())  # fmt: skip
    ledger.record("TreatmentOrdered", OTHER, order("2026-01-27"), PHYSICIAN, T0 + timedelta(hours=1))
    assert schedule(ledger).booked[date(2026, 1, 27)] == {str(OTHER)}


def test_a_day_without_declared_capacity_and_an_unknown_manufacturer_are_refused() -> None:
    ledger = declared()
    refuse(ledger, NotFound, "payload.slot_on", "no_manufacturing_capacity", "no manufacturing slot on 2026-01-21",
           "TreatmentOrdered", PATHWAY_ID, order("2026-01-21"))  # fmt: skip
    refuse(ledger, NotFound, "payload.manufacturer", "site_not_registered", "is not a registered site",
           "TreatmentOrdered", PATHWAY_ID, {**order(), "manufacturer": "Nowhere Labs"})  # fmt: skip
    fresh = ready_ledger()
    refuse(fresh, NotFound, "payload.slot_on", "no_manufacturing_capacity", "no manufacturing slot on 2026-01-20",
           "TreatmentOrdered", PATHWAY_ID, order())  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "field", "rule"),
    [
        (order(apheresis_on="2026-01-04"), "payload.apheresis_on", "planned_in_the_past"),
        (order(apheresis_on="2026-01-21"), "payload.slot_on", "slot_before_apheresis"),
        (order(infusion_on="2026-01-20"), "payload.infusion_on", "infusion_before_slot"),
    ],
    ids=["apheresis-before-order", "slot-before-apheresis", "infusion-on-slot-day"],
)
def test_the_days_of_an_order_run_forward(payload: dict[str, Any], field: str, rule: str) -> None:
    refuse(declared(), TimeRuleViolation, field, rule, field, "TreatmentOrdered", PATHWAY_ID, payload)


def test_one_open_order_per_patient_and_none_before_the_pair_cosigns() -> None:
    ledger = declared()
    ledger.record("TreatmentOrdered", PATHWAY_ID, order("2026-01-27"), PHYSICIAN, T0)
    refuse(ledger, OutOfOrder, None, "order_already_open", "already has an open order", "TreatmentOrdered",
           PATHWAY_ID, order("2026-01-27"))  # fmt: skip
    walk_pathway(ledger, "TreatmentDecisionProposed", pseudonym="PSN-PENDING")
    refuse(ledger, OutOfOrder, None, "treatment_decision_not_cosigned", "not signed by both members of the pair",
           "TreatmentOrdered", pathway_id_for("PSN-PENDING"), order("2026-01-27"))  # fmt: skip


def test_rescheduling_frees_the_old_slot_and_books_the_new_one_together() -> None:
    ledger = declared()
    ledger.record("TreatmentOrdered", PATHWAY_ID, order(), PHYSICIAN, T0)
    moved = ledger.record(
        "TreatmentOrderRescheduled", PATHWAY_ID,
        {"apheresis_on": "2026-01-19", "slot_on": "2026-01-27", "reason": "patient febrile"}, PHYSICIAN, T0,
    )  # fmt: skip
    assert [(e.type, e.payload.get("starts_on")) for e in moved] == [
        ("TreatmentOrderRescheduled", None), ("ManufacturingSlotReleased", "2026-01-20"),
        ("ManufacturingSlotBooked", "2026-01-27"),
    ]  # fmt: skip
    assert pathway(ledger).order.slot_on == "2026-01-27"  # type: ignore[union-attr]
    ledger.record("TreatmentOrdered", OTHER, order(), PHYSICIAN, T0)  # the freed slot
    refuse(ledger, RuleViolation, "payload.slot_on", "slot_full", "all booked", "TreatmentOrderRescheduled",
           PATHWAY_ID, {"apheresis_on": "2026-01-12", "slot_on": "2026-01-20", "reason": "back"})  # fmt: skip


def test_cancelling_frees_the_slot_and_leaves_no_order_to_cancel_again() -> None:
    ledger = declared()
    ledger.record("TreatmentOrdered", PATHWAY_ID, order(), PHYSICIAN, T0)
    cancelled = ledger.record("TreatmentOrderCancelled", PATHWAY_ID, {"reason": "remission"}, PHYSICIAN, T0)
    assert [e.type for e in cancelled] == ["TreatmentOrderCancelled", "ManufacturingSlotReleased"]
    assert pathway(ledger).order is None and schedule(ledger).free_on(date(2026, 1, 20)) == 1
    refuse(ledger, OutOfOrder, None, "no_open_order", "has no open order", "TreatmentOrderCancelled", PATHWAY_ID,
           {"reason": "again"})  # fmt: skip


def test_capacity_is_declared_on_the_manufacturers_own_schedule_and_never_below_its_bookings() -> None:
    ledger = declared()
    ledger.record("TreatmentOrdered", PATHWAY_ID, order("2026-01-27"), PHYSICIAN, T0)
    ledger.record("TreatmentOrdered", OTHER, order("2026-01-27"), PHYSICIAN, T0)
    cut = {"manufacturer": MANUFACTURER, "slots": [{"starts_on": "2026-01-27", "capacity": 1}]}
    refuse(
        ledger,
        RuleViolation,
        "payload.slots[0].capacity",
        "capacity_below_bookings",
        "below the 2 orders already booked on 2026-01-27",
        "ManufacturingCapacityDeclared",
        SCHEDULE,
        cut,
    )
    refuse(
        ledger,
        InvalidInput,
        "aggregate_id",
        "aggregate_id_mismatch",
        "derived from the manufacturer's site code",
        "ManufacturingCapacityDeclared",
        schedule_id_for("Other Lab"),
        cut,
    )
    elsewhere = {"manufacturer": "Nowhere Labs", "slots": [{"starts_on": "2026-01-27", "capacity": 1}]}
    refuse(ledger, NotFound, "payload.manufacturer", "site_not_registered", "is not a registered site",
           "ManufacturingCapacityDeclared", schedule_id_for("Nowhere Labs"), elsewhere)  # fmt: skip
    more = {"manufacturer": MANUFACTURER, "slots": [{"starts_on": "2026-01-27", "capacity": 3}]}
    ledger.record("ManufacturingCapacityDeclared", SCHEDULE, more, QP, T0 + timedelta(hours=2))
    assert schedule(ledger).free_on(date(2026, 1, 27)) == 1


def test_an_msc_patient_has_no_apheresis_to_order() -> None:
    refuse(declared(), OutOfOrder, None, "car_t_only", "decided therapy is msc", "TreatmentOrdered",
           pathway_id_for(MSC_PATIENTS[0]), order("2026-01-27"))  # fmt: skip

"""Shipments: what may travel together, in which shipper, and a receipt that accounts for every product."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from domain_fixtures import (
    COURIER,
    MANUFACTURER,
    PHARMACIST,
    PHARMACY,
    PHYSICIAN,
    PRODUCT_ID,
    QP,
    CarTJourney,
    FakeLedger,
    dispatch_payload,
    msc_coi,
    msc_enrolment,
    msc_product_id,
    released_batch,
    shipment_receipt,
)

from domain.errors import (
    CustodyError,
    IdentityMismatch,
    InvalidInput,
    NotFound,
    OutOfOrder,
    ProductOnHold,
    RuleViolation,
    TerminalState,
    TimeRuleViolation,
)
from domain.product import ProductState
from tests.unit.pathway_fixtures import ready_ledger

HOUR = timedelta(hours=1)


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_dispatch_records_the_shipment_and_ships_each_product(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    shipment_id, at = uuid4(), journey.at + HOUR
    payload = dispatch_payload([PRODUCT_ID], "to_manufacturer", MANUFACTURER, "fresh_2_8c")
    events = ledger.record("ShipmentDispatched", shipment_id, payload, COURIER, at)
    assert [(e.type, e.aggregate_id, e.aggregate_kind) for e in events] == [
        ("ShipmentDispatched", shipment_id, "shipment"),
        ("ProductShipped", PRODUCT_ID, "product"),
    ]
    assert events[1].occurred_at == at and events[1].meaning == "performed"
    assert events[1].payload == {
        "shipment_id": str(shipment_id),
        "leg": "to_manufacturer",
        "to_site": MANUFACTURER,
    }
    assert ledger.product().state is ProductState.IN_TRANSIT
    assert ledger.shipment(shipment_id).custodian == "Cryo Express"


def test_a_product_is_listed_once_in_a_shipment(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    ledger.refuse(
        InvalidInput,
        field="payload.units",
        rule="duplicate_unit",
        message="lists a product twice",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID, PRODUCT_ID], "to_manufacturer", MANUFACTURER, "fresh_2_8c"),
        actor=COURIER,
        at=journey.at,
    )


def test_an_unknown_product_cannot_be_shipped(ledger: FakeLedger) -> None:
    ghost = uuid4()
    ledger.refuse(
        NotFound,
        field="payload.units[0]",
        rule="not_found",
        message=f"no product with id {ghost}",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([ghost], "to_manufacturer", MANUFACTURER, "fresh_2_8c"),
        actor=COURIER,
        at=CarTJourney(ledger).at,
    )


def test_a_product_not_yet_collected_cannot_travel_to_the_manufacturer(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ProductEnrolled")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="not_ready_to_ship",
        message="the product is enrolled; it must be collected",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID], "to_manufacturer", MANUFACTURER, "fresh_2_8c"),
        actor=COURIER,
        at=journey.at,
    )


def test_fresh_apheresis_does_not_travel_in_a_dry_shipper(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    ledger.refuse(
        RuleViolation,
        field="payload.temperature_class",
        rule="wrong_temperature_class",
        message="not allowed for fresh apheresis (payload.units[0]); use fresh_2_8c or room_temperature",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID], "to_manufacturer", MANUFACTURER, "ln2_dry_shipper"),
        actor=COURIER,
        at=journey.at,
    )


def test_a_released_product_travels_to_the_pharmacy_only_in_a_dry_shipper(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ProductReleased")
    ledger.refuse(
        RuleViolation,
        field="payload.temperature_class",
        rule="wrong_temperature_class",
        message="use ln2_dry_shipper",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID], "to_pharmacy", PHARMACY, "fresh_2_8c"),
        actor=COURIER,
        at=journey.at,
    )


def test_a_quarantined_product_is_not_shipped(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ProductReleased")
    ledger.record("ProductQuarantined", PRODUCT_ID, {"reason": "retest"}, QP, journey.at)
    ledger.refuse(
        ProductOnHold,
        field=None,
        rule="product_quarantined",
        message="cannot record ProductShipped (payload.units[0])",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID], "to_pharmacy", PHARMACY, "ln2_dry_shipper"),
        actor=COURIER,
        at=journey.at,
    )


def test_an_infused_product_is_not_shipped(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Infused")
    ledger.refuse(
        TerminalState,
        field=None,
        rule="terminal_state",
        message="the product is infused",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID], "to_pharmacy", PHARMACY, "ln2_dry_shipper"),
        actor=COURIER,
        at=journey.at,
    )


def test_a_dispatch_cannot_be_dated_before_a_product_last_step(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    ledger.refuse(
        TimeRuleViolation,
        field="occurred_at",
        rule="before_previous_step",
        message="previous step of this product",
        event_type="ShipmentDispatched",
        aggregate_id=uuid4(),
        payload=dispatch_payload([PRODUCT_ID], "to_manufacturer", MANUFACTURER, "fresh_2_8c"),
        actor=COURIER,
        at=journey.at - HOUR,
    )


def test_couriers_hand_the_shipper_over_until_it_is_received(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    handover = {"from_party": "Cryo Express", "to_party": COURIER.user_id, "seal_intact": True}
    ledger.record("ShipmentHandedOver", journey.to_manufacturer, handover, COURIER, journey.at)
    ledger.record("ShipmentHandOverAccepted", journey.to_manufacturer, {"seal_intact": True}, COURIER, journey.at)
    assert ledger.shipment(journey.to_manufacturer).custodian == COURIER.user_id
    journey.until("ReceivedAtManufacturer")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="already_received",
        message="already been received",
        event_type="ShipmentHandedOver",
        aggregate_id=journey.to_manufacturer,
        payload=handover,
        actor=COURIER,
        at=journey.at,
    )


def refuse_receipt(
    ledger: FakeLedger,
    journey: CarTJourney,
    payload: dict[str, Any],
    *,
    error: type[CustodyError],
    field: str | None,
    rule: str,
    message: str,
) -> None:
    """Assert the manufacturer's receipt of the journey's first shipment is refused."""
    ledger.refuse(
        error,
        field=field,
        rule=rule,
        message=message,
        event_type="ShipmentReceived",
        aggregate_id=journey.to_manufacturer,
        payload=payload,
        actor=QP,
        at=journey.at + HOUR,
    )


def test_a_shipment_is_received_at_its_destination_only(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], PHARMACY),
        error=RuleViolation,
        field="payload.site",
        rule="wrong_destination",
        message=f"not the shipment's destination {MANUFACTURER}",
    )


def test_the_data_logger_is_read_before_receipt(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], MANUFACTURER, data_logger_reviewed=False),
        error=RuleViolation,
        field="payload.data_logger_reviewed",
        rule="data_logger_review_required",
        message="read data logger LOG-7 first",
    )


def test_every_product_dispatched_is_accounted_for(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([], MANUFACTURER),
        error=InvalidInput,
        field="payload.received_units",
        rule="too_few_items",
        message="at least 1",
    )
    stranger = uuid4()
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([stranger], MANUFACTURER),
        error=RuleViolation,
        field="payload.received_units[0].product_id",
        rule="unit_not_in_shipment",
        message="was not dispatched",
    )
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID, PRODUCT_ID], MANUFACTURER),
        error=InvalidInput,
        field="payload.received_units[1].product_id",
        rule="duplicate_unit",
        message="listed twice",
    )


def test_a_label_that_does_not_match_stops_the_receipt_and_leaves_a_near_miss(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    other = msc_coi("00077X")
    with pytest.raises(IdentityMismatch) as caught:
        ledger.record(
            "ShipmentReceived",
            journey.to_manufacturer,
            shipment_receipt([PRODUCT_ID], MANUFACTURER, other),
            QP,
            journey.at + HOUR,
        )
    assert caught.value.field == "payload.received_units[0].scanned_coi"
    assert [(e.type, e.aggregate_id) for e in caught.value.safety_events] == [("IdentityMismatchRecorded", PRODUCT_ID)]
    assert ledger.types(journey.to_manufacturer) == ["ShipmentDispatched"]


def test_a_warm_shipment_is_received_and_the_product_quarantined(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    warm = shipment_receipt([PRODUCT_ID], MANUFACTURER, temperature_ok=False)
    del warm["max_c"]
    refuse_receipt(
        ledger,
        journey,
        warm,
        error=InvalidInput,
        field="payload.max_c",
        rule="required",
        message="payload.max_c is required",
    )
    warm.update(max_c=14.5, excursion_min=50)
    ledger.record("ShipmentReceived", journey.to_manufacturer, warm, QP, journey.at + HOUR)
    assert ledger.types(PRODUCT_ID)[-2:] == ["ProductReceived", "TemperatureExcursionRecorded"]
    product = ledger.product()
    assert product.state is ProductState.RECEIVED_AT_MANUFACTURER and product.quarantined
    assert ledger.histories[PRODUCT_ID][-1].payload == {
        "context": "shipping",
        "max_c": 14.5,
        "duration_min": 50,
        "min_c": 3.1,
        "data_logger_id": "LOG-7",
    }


def test_fresh_apheresis_received_after_its_window_is_held_with_a_deviation(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    late = journey.at + timedelta(hours=40)
    ledger.record("ShipmentReceived", journey.to_manufacturer, shipment_receipt([PRODUCT_ID], MANUFACTURER), QP, late)
    assert ledger.types(PRODUCT_ID)[-3:] == ["ProductReceived", "DeviationRecorded", "ProductQuarantined"]
    deviation = ledger.histories[PRODUCT_ID][-2].payload
    assert deviation["severity"] == "major" and "the fresh_2_8c window is 30 h" in deviation["description"]
    assert ledger.product().quarantined and len(ledger.product().open_deviations) == 1


def test_room_temperature_apheresis_has_the_shorter_window(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    shipment_id = uuid4()
    payload = dispatch_payload([PRODUCT_ID], "to_manufacturer", MANUFACTURER, "room_temperature")
    ledger.record("ShipmentDispatched", shipment_id, payload, COURIER, journey.at + HOUR)
    ledger.record(
        "ShipmentReceived",
        shipment_id,
        shipment_receipt([PRODUCT_ID], MANUFACTURER, min_c=18.0, max_c=22.0),
        QP,
        journey.at + 20 * HOUR,
    )
    assert "the room_temperature window is 18 h" in ledger.histories[PRODUCT_ID][-2].payload["description"]


def test_a_damaged_bag_and_broken_seal_are_recorded_and_held(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    receipt = shipment_receipt([PRODUCT_ID], MANUFACTURER, seal_intact=False)
    receipt["received_units"][0]["condition"] = "damaged"
    ledger.record("ShipmentReceived", journey.to_manufacturer, receipt, QP, journey.at + HOUR)
    assert ledger.types(PRODUCT_ID)[-4:] == [
        "ProductReceived",
        "DeviationRecorded",
        "DeviationRecorded",
        "ProductQuarantined",
    ]


def test_a_shipment_is_received_once(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtManufacturer")
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], MANUFACTURER),
        error=OutOfOrder,
        field=None,
        rule="already_received",
        message="already been received",
    )


def test_the_pharmacy_checks_the_certificate_of_release_on_receipt(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToPharmacy")
    ledger.refuse(
        RuleViolation,
        field="payload.certificate_of_release_checked",
        rule="certificate_of_release_not_checked",
        message="checks the certificate of release",
        event_type="ShipmentReceived",
        aggregate_id=journey.to_pharmacy,
        payload=shipment_receipt([PRODUCT_ID], PHARMACY, certificate_of_release_checked=False),
        actor=PHARMACIST,
        at=journey.at + HOUR,
    )


def test_several_msc_doses_travel_and_arrive_together(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    at = CarTJourney(ledger).at + timedelta(hours=3)
    doses = []
    for number, sequence in enumerate(["00002M", "00003M"], start=1):
        ledger.record(
            "ProductEnrolled",
            msc_product_id(sequence),
            msc_enrolment(batch_id, number, sequence),
            PHYSICIAN,
            at,
        )
        doses.append(msc_product_id(sequence))
    shipment_id = uuid4()
    ledger.record(
        "ShipmentDispatched",
        shipment_id,
        dispatch_payload(doses, "to_pharmacy", PHARMACY, "ln2_dry_shipper"),
        COURIER,
        at,
    )
    receipt = shipment_receipt(doses, PHARMACY)
    receipt["received_units"][1]["scanned_coi"] = msc_coi("00003M")
    receipt["received_units"][0]["scanned_coi"] = msc_coi("00002M")
    events = ledger.record("ShipmentReceived", shipment_id, receipt, PHARMACIST, at + HOUR)
    assert [e.type for e in events] == ["ShipmentReceived", "ProductReceived", "ProductReceived"]
    assert all(ledger.product(dose).state is ProductState.RECEIVED_AT_PHARMACY for dose in doses)

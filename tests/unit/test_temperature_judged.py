"""Temperatures judged by the ledger from the data logger's figures, at receipt and in storage."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from domain_fixtures import (
    COURIER,
    LEDGER_ACTOR,
    MANUFACTURER,
    NURSE,
    PHARMACIST,
    PHARMACY,
    PRODUCT_ID,
    QP,
    CarTJourney,
    FakeLedger,
    dispatch_payload,
    shipment_receipt,
    storage,
)

from domain.catalogue import Catalogue
from domain.errors import InvalidInput, RuleViolation
from domain.product import ProductState
from domain.temperature_verdict import AcceptableRange, shipping_range
from tests.unit.pathway_fixtures import ready_ledger

HOUR = timedelta(hours=1)
WARMED = {"min_c": -185.0, "max_c": -60.0, "excursion_min": 95}
"""A Kymriah dry shipper that warmed to -60 °C for 95 minutes (its limit is -120 °C, SmPC 6.4)."""


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def in_transit_to_pharmacy(ledger: FakeLedger) -> CarTJourney:
    return CarTJourney(ledger).until("ToPharmacy")


def receive_at_pharmacy(ledger: FakeLedger, journey: CarTJourney, **figures: Any) -> None:
    receipt = shipment_receipt([PRODUCT_ID], PHARMACY, journey.coi, **figures)
    ledger.record("ShipmentReceived", journey.to_pharmacy, receipt, PHARMACIST, journey.at + HOUR)


def refuse_receipt(ledger: FakeLedger, journey: CarTJourney, receipt: dict[str, Any], **expected: Any) -> None:
    ledger.refuse(
        event_type="ShipmentReceived",
        aggregate_id=journey.to_pharmacy,
        payload=receipt,
        actor=PHARMACIST,
        at=journey.at + HOUR,
        **expected,
    )


# -- receipt: the ledger's verdict, and a declared one that must agree ------------------------------------


def test_a_kymriah_dry_shipper_read_at_minus_60_declared_ok_is_refused_with_the_figures_and_the_limit(
    ledger: FakeLedger,
) -> None:
    journey = in_transit_to_pharmacy(ledger)
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], PHARMACY, temperature_ok=True, **WARMED),
        error=RuleViolation,
        field="payload.temperature_ok",
        rule="temperature_verdict_contradicts_figures",
        message="payload.temperature_ok is true (no excursion) but the measured figures (min -185 °C, max -60 °C, "
        "95 min outside the range, data logger LOG-7) are outside the limit ≤ -120 °C for KYMRIAH in a "
        "ln2_dry_shipper shipper",
    )
    assert ledger.product().state is ProductState.IN_TRANSIT


def test_figures_alone_record_the_excursion_signed_by_the_ledger_and_quarantine_the_product(
    ledger: FakeLedger,
) -> None:
    journey = in_transit_to_pharmacy(ledger)
    receive_at_pharmacy(ledger, journey, **WARMED)
    received, excursion = ledger.histories[PRODUCT_ID][-2:]
    assert received.type == "ProductReceived" and received.actor == PHARMACIST
    assert (received.payload["temperature_ok"], received.payload["min_c"], received.payload["max_c"]) == (
        False,
        -185.0,
        -60.0,
    )
    assert received.payload["excursion_min"] == 95
    assert excursion.type == "TemperatureExcursionRecorded"
    assert excursion.actor == LEDGER_ACTOR and excursion.meaning == "recorded"
    assert excursion.payload == {
        "context": "shipping",
        "max_c": -60.0,
        "duration_min": 95,
        "min_c": -185.0,
        "data_logger_id": "LOG-7",
    }
    product = ledger.product()
    assert product.state is ProductState.RECEIVED_AT_PHARMACY
    assert product.quarantined and product.quarantined_by == "ledger"


def test_an_excursion_declared_along_with_its_figures_is_recorded_as_well(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    receive_at_pharmacy(ledger, journey, temperature_ok=False, **WARMED)
    assert ledger.types(PRODUCT_ID)[-2:] == ["ProductReceived", "TemperatureExcursionRecorded"]


def test_a_receipt_within_range_passes_with_the_figures_kept_and_no_hold(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    receive_at_pharmacy(ledger, journey, temperature_ok=True, min_c=-190.0, max_c=-121.0, excursion_min=0)
    assert ledger.types(PRODUCT_ID)[-1] == "ProductReceived"
    payload = ledger.histories[PRODUCT_ID][-1].payload
    assert (payload["temperature_ok"], payload["max_c"], payload["excursion_min"]) == (True, -121.0, 0)
    assert not ledger.product().quarantined


def test_the_limit_itself_is_within_range_and_a_tenth_above_it_is_not(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], PHARMACY, temperature_ok=True, min_c=-190.0, max_c=-119.9, excursion_min=0),
        error=RuleViolation,
        field="payload.temperature_ok",
        rule="temperature_verdict_contradicts_figures",
        message="max -119.9 °C",
    )
    receive_at_pharmacy(ledger, journey, temperature_ok=True, min_c=-190.0, max_c=-120.0, excursion_min=0)
    assert not ledger.product().quarantined


def test_an_excursion_declared_against_figures_within_range_is_refused(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], PHARMACY, temperature_ok=False),
        error=RuleViolation,
        field="payload.temperature_ok",
        rule="temperature_verdict_contradicts_figures",
        message="is false (an excursion) but the measured figures (min -190 °C, max -165 °C, 0 min outside the "
        "range, data logger LOG-7) are within the limit ≤ -120 °C",
    )


def test_minutes_counted_outside_the_range_are_an_excursion_even_with_extremes_inside(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    receive_at_pharmacy(ledger, journey, min_c=-190.0, max_c=-130.0, excursion_min=12)
    assert ledger.types(PRODUCT_ID)[-1] == "TemperatureExcursionRecorded"
    assert ledger.histories[PRODUCT_ID][-1].payload["duration_min"] == 12


@pytest.mark.parametrize(
    ("figures", "excursion"),
    [
        ({"min_c": 2.0, "max_c": 8.0, "excursion_min": 0}, False),
        ({"min_c": 3.0, "max_c": 9.5, "excursion_min": 0}, True),  # too warm
        ({"min_c": 1.0, "max_c": 6.0, "excursion_min": 0}, True),  # too cold: fresh cells have a floor too
    ],
)
def test_a_fresh_apheresis_cold_box_is_judged_against_2_to_8_degrees(
    ledger: FakeLedger, figures: dict[str, float], excursion: bool
) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    receipt = shipment_receipt([PRODUCT_ID], MANUFACTURER, **figures)
    ledger.record("ShipmentReceived", journey.to_manufacturer, receipt, QP, journey.at + HOUR)
    assert (ledger.types(PRODUCT_ID)[-1] == "TemperatureExcursionRecorded") is excursion
    assert ledger.product().quarantined is excursion


def test_a_room_temperature_shipper_is_judged_against_15_to_25_degrees(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    shipment_id = uuid4()
    payload = dispatch_payload([PRODUCT_ID], "to_manufacturer", MANUFACTURER, "room_temperature")
    ledger.record("ShipmentDispatched", shipment_id, payload, COURIER, journey.at + HOUR)
    cold = shipment_receipt([PRODUCT_ID], MANUFACTURER, temperature_ok=True)  # 3.1–6.4 °C: a cold box's figures
    ledger.refuse(
        RuleViolation,
        field="payload.temperature_ok",
        rule="temperature_verdict_contradicts_figures",
        message="outside the limit 15–25 °C for KYMRIAH in a room_temperature shipper",
        event_type="ShipmentReceived",
        aggregate_id=shipment_id,
        payload=cold,
        actor=QP,
        at=journey.at + 2 * HOUR,
    )
    warm = shipment_receipt([PRODUCT_ID], MANUFACTURER, min_c=17.0, max_c=23.5, excursion_min=0)
    ledger.record("ShipmentReceived", shipment_id, warm, QP, journey.at + 2 * HOUR)
    assert ledger.types(PRODUCT_ID)[-1] == "ProductReceived" and not ledger.product().quarantined


@pytest.mark.parametrize("missing", ["min_c", "max_c", "excursion_min"])
def test_each_logger_figure_is_required(ledger: FakeLedger, missing: str) -> None:
    journey = in_transit_to_pharmacy(ledger)
    receipt = shipment_receipt([PRODUCT_ID], PHARMACY, temperature_ok=True)
    del receipt[missing]
    refuse_receipt(
        ledger,
        journey,
        receipt,
        error=InvalidInput,
        field=f"payload.{missing}",
        rule="required",
        message=f"payload.{missing} is required",
    )


def test_a_lowest_reading_above_the_highest_is_refused(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], PHARMACY, min_c=-150.0, max_c=-170.0, excursion_min=0),
        error=InvalidInput,
        field="payload.min_c",
        rule="min_above_max",
        message="payload.min_c -150 °C is above payload.max_c -170 °C",
    )


def test_negative_minutes_outside_the_range_are_refused(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    refuse_receipt(
        ledger,
        journey,
        shipment_receipt([PRODUCT_ID], PHARMACY, excursion_min=-1),
        error=InvalidInput,
        field="payload.excursion_min",
        rule="out_of_range",
        message="must be at least 0",
    )


# -- the ledger is the quarantiner: anyone qualified may lift ------------------------------------------


def test_the_receiving_pharmacist_may_lift_a_quarantine_the_ledger_placed(ledger: FakeLedger) -> None:
    journey = in_transit_to_pharmacy(ledger)
    receive_at_pharmacy(ledger, journey, **WARMED)
    lift = {"reason": "manufacturer's stability data cover 95 min at -60 °C", "assessment_ref": "RA-7"}
    ledger.record("QuarantineLifted", PRODUCT_ID, lift, PHARMACIST, journey.at + 3 * HOUR)
    assert ledger.types(PRODUCT_ID)[-1] == "QuarantineLifted"  # no four-eyes waiver was needed
    assert not ledger.product().quarantined


def test_a_quarantine_a_pharmacist_placed_by_hand_is_still_not_theirs_to_lift(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    alarm = {"context": "storage", "max_c": -95.0, "duration_min": 40, "data_logger_id": "TANK-2"}
    ledger.record("TemperatureExcursionRecorded", PRODUCT_ID, alarm, PHARMACIST, journey.at + HOUR)
    assert ledger.histories[PRODUCT_ID][-1].actor == PHARMACIST
    ledger.refuse(
        RuleViolation,
        field="user",
        rule="lift_by_quarantiner",
        message="placed this quarantine",
        event_type="QuarantineLifted",
        aggregate_id=PRODUCT_ID,
        payload={"reason": "tank alarm explained", "assessment_ref": "RA-8"},
        actor=PHARMACIST,
        at=journey.at + 2 * HOUR,
    )


# -- storage: the tank's reading against the storage limit ---------------------------------------------


def refuse_storage(ledger: FakeLedger, journey: CarTJourney, payload: dict[str, Any], **expected: Any) -> None:
    ledger.refuse(
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=PHARMACIST,
        at=journey.at + HOUR,
        **expected,
    )


def test_storage_declared_ok_above_the_limit_is_refused_as_a_contradiction(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    refuse_storage(
        ledger,
        journey,
        {**storage(-100.0), "temperature_ok": True},
        error=RuleViolation,
        field="payload.temperature_ok",
        rule="temperature_verdict_contradicts_figures",
        message="the measured figures (tank T2 read -100 °C) are outside the limit ≤ -120 °C for KYMRIAH in storage",
    )


def test_storage_declared_not_ok_at_minus_180_is_refused_as_a_contradiction(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    refuse_storage(
        ledger,
        journey,
        {**storage(-180.0), "temperature_ok": False},
        error=RuleViolation,
        field="payload.temperature_ok",
        rule="temperature_verdict_contradicts_figures",
        message="are within the limit ≤ -120 °C",
    )


def test_storage_with_an_agreeing_verdict_or_none_is_stored(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    ledger.record("StoredInLN2", PRODUCT_ID, {**storage(-180.0), "temperature_ok": True}, PHARMACIST, journey.at + HOUR)
    assert ledger.product().state is ProductState.STORED
    assert ledger.histories[PRODUCT_ID][-2].payload["temperature_ok"] is True


# -- an excursion recorded by hand must be one ---------------------------------------------------------


def test_a_storage_alarm_whose_figures_are_within_the_limit_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        RuleViolation,
        field="payload.max_c",
        rule="temperature_verdict_contradicts_figures",
        message="the figures (max -150 °C, 0 min outside the range) are within the limit ≤ -120 °C for KYMRIAH "
        "in storage: that is no excursion",
        event_type="TemperatureExcursionRecorded",
        aggregate_id=PRODUCT_ID,
        payload={"context": "storage", "max_c": -150.0, "duration_min": 0, "data_logger_id": "TANK-2"},
        actor=PHARMACIST,
        at=journey.at + HOUR,
    )


def test_a_courier_alarm_in_transit_is_judged_against_the_shipper_class(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    in_range = {"context": "shipping", "max_c": 7.5, "min_c": 3.0, "duration_min": 0, "data_logger_id": "LOG-7"}
    ledger.refuse(
        RuleViolation,
        field="payload.max_c",
        rule="temperature_verdict_contradicts_figures",
        message="within the limit 2–8 °C for KYMRIAH in a fresh_2_8c shipper",
        event_type="TemperatureExcursionRecorded",
        aggregate_id=PRODUCT_ID,
        payload=in_range,
        actor=COURIER,
        at=journey.at + HOUR,
    )
    ledger.record("TemperatureExcursionRecorded", PRODUCT_ID, {**in_range, "max_c": 11.0}, COURIER, journey.at + HOUR)
    assert ledger.product().quarantined and ledger.product().quarantined_by == COURIER.user_id


def test_an_alarm_with_its_lowest_reading_above_its_highest_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    ledger.refuse(
        InvalidInput,
        field="payload.min_c",
        rule="min_above_max",
        message="is above payload.max_c",
        event_type="TemperatureExcursionRecorded",
        aggregate_id=PRODUCT_ID,
        payload={"context": "storage", "max_c": -95.0, "min_c": -80.0, "duration_min": 40},
        actor=NURSE,
        at=journey.at + HOUR,
    )


# -- the ranges the catalogue gives ---------------------------------------------------------------------


def test_the_dry_shipper_limit_is_the_storage_limit_unless_the_site_sets_one() -> None:
    default = Catalogue.default()
    assert shipping_range(default.get("KYMRIAH"), "ln2_dry_shipper") == AcceptableRange(None, -120.0)
    assert shipping_range(default.get("TECARTUS"), "ln2_dry_shipper") == AcceptableRange(None, -150.0)
    site = Catalogue.from_mapping({"KYMRIAH": {"ln2_dry_shipper_max_c": -150}})
    assert shipping_range(site.get("KYMRIAH"), "ln2_dry_shipper") == AcceptableRange(None, -150.0)
    assert shipping_range(site.get("KYMRIAH"), "fresh_2_8c") == AcceptableRange(2.0, 8.0)
    assert shipping_range(site.get("KYMRIAH"), "room_temperature") == AcceptableRange(15.0, 25.0)

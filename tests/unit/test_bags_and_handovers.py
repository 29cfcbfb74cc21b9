"""Every bag accounted for, and a hand-over that makes the receiver custodian once both have signed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from domain_fixtures import (
    COURIER,
    NURSE,
    PHARMACIST,
    PHYSICIAN,
    PRODUCT_ID,
    QP,
    CarTJourney,
    FakeLedger,
    iso,
    shipment_receipt,
)

from domain.errors import InvalidInput, NotFound, OutOfOrder, RuleViolation
from domain.product_bags import bag_fates
from tests.unit.pathway_fixtures import ready_ledger

HOUR = timedelta(hours=1)


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def thaw(journey: CarTJourney, bag: str | None, after: timedelta = timedelta(minutes=20)) -> dict[str, Any]:
    """A thaw payload completed just before ``journey.at + after`` (the journey's clock moves on)."""
    journey.at += after
    payload: dict[str, Any] = {
        "method": "dry_thawer",
        "started_at": iso(journey.at - timedelta(minutes=15)),
        "completed_at": iso(journey.at - timedelta(minutes=1)),
    }
    if bag is not None:
        payload["bag_id"] = bag
    return payload


# -- thaw names the bag -----------------------------------------------------------------------------------------------


def test_a_thaw_that_does_not_name_its_bag_is_refused_when_the_lot_has_several(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    ledger.refuse(
        InvalidInput,
        field="payload.bag_id",
        rule="bag_required",
        message="lot LOT-1 has several bags (BAG-1, BAG-2); scan the label of the bag thawed",
        event_type="Thawed",
        aggregate_id=PRODUCT_ID,
        payload=thaw(journey, None),
        actor=NURSE,
        at=journey.at,
    )


def test_a_bag_is_thawed_once(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    ledger.refuse(
        OutOfOrder,
        field="payload.bag_id",
        rule="bag_already_thawed",
        message="payload.bag_id BAG-1 is already thawed",
        event_type="Thawed",
        aggregate_id=PRODUCT_ID,
        payload=thaw(journey, "BAG-1"),
        actor=NURSE,
        at=journey.at,
    )


def test_a_second_bag_may_be_thawed_before_the_bedside_checks(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    first_window = ledger.product().thaw_completed_at
    ledger.record("Thawed", PRODUCT_ID, thaw(journey, "BAG-2"), NURSE, journey.at)
    product = ledger.product()
    assert product.thawed_bags == ("BAG-1", "BAG-2")
    assert product.thaw_completed_at == first_window  # the first bag thawed sets the infusion deadline


# -- infusion names bags that exist and are thawed --------------------------------------------------------------------


def infusion(journey: CarTJourney, bags: list[str]) -> dict[str, Any]:
    return {**journey.infusion(timedelta(minutes=10)), "bag_ids": bags}


def test_infusing_a_bag_that_was_not_thawed_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.refuse(
        OutOfOrder,
        field="payload.bag_ids",
        rule="bag_not_thawed",
        message="payload.bag_ids BAG-2 not thawed (thawed: BAG-1)",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=infusion(journey, ["BAG-1", "BAG-2"]),
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


def test_an_infusion_that_leaves_a_thawed_bag_unaccounted_for_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Thawed")
    ledger.record("Thawed", PRODUCT_ID, thaw(journey, "BAG-2", timedelta(minutes=3)), NURSE, journey.at)
    journey.until("BedsideCheckWitnessed")
    ledger.refuse(
        OutOfOrder,
        field="payload.bag_ids",
        rule="thawed_bag_not_infused",
        message="does not name thawed bag BAG-2",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=infusion(journey, ["BAG-1"]),
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


def test_an_infusion_naming_a_bag_twice_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.refuse(
        InvalidInput,
        field="payload.bag_ids",
        rule="duplicate_bag",
        message="lists a bag twice",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=infusion(journey, ["BAG-1", "BAG-1"]),
        actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )


# -- each bag's fate --------------------------------------------------------------------------------------------------


def test_each_bag_has_a_fate_from_storage_to_infusion(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    assert bag_fates(ledger.product()) == {"BAG-1": "awaiting", "BAG-2": "awaiting"}
    journey.until("StoredInLN2")
    assert bag_fates(ledger.product()) == {"BAG-1": "stored", "BAG-2": "stored"}
    journey.until("Thawed")
    assert bag_fates(ledger.product()) == {"BAG-1": "thawed", "BAG-2": "dispensed"}
    journey.until("BedsideCheckWitnessed")
    override = {"reason": "lymphopenia below 0.2 G/L from the disease; conditioning judged unnecessary by the RCP"}
    ledger.record("LymphodepletionOverrideRecorded", PRODUCT_ID, override, PHYSICIAN, journey.at)
    journey.until("Infused")
    assert bag_fates(ledger.product()) == {"BAG-1": "infused", "BAG-2": "dispensed"}


def test_every_bag_of_a_destroyed_product_is_destroyed(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("StoredInLN2")
    journey.step("NotInfused", PRODUCT_ID, {"reason": "patient_condition", "detail": "sepsis"}, PHARMACIST, HOUR)
    journey.step(
        "ProductDestroyed",
        PRODUCT_ID,
        {"reason": "not infused", "method": "incineration", "waste_stream": "gmo"},
        PHARMACIST,
        HOUR,
    )
    assert bag_fates(ledger.product()) == {"BAG-1": "destroyed", "BAG-2": "destroyed"}


# -- hand-overs -------------------------------------------------------------------------------------------------------


def handover(from_party: str, to_party: str) -> dict[str, Any]:
    return {"from_party": from_party, "to_party": to_party, "seal_intact": True}


def test_a_hand_over_to_a_person_makes_them_custodian_once_they_accept(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    shipment = journey.to_manufacturer
    ledger.record("ShipmentHandedOver", shipment, handover("Cryo Express", COURIER.user_id), COURIER, journey.at)
    assert ledger.shipment(shipment).custodian == "Cryo Express"
    ledger.record("ShipmentHandOverAccepted", shipment, {"seal_intact": True}, COURIER, journey.at + HOUR)
    assert ledger.shipment(shipment).custodian == COURIER.user_id


def test_a_hand_over_to_an_unregistered_party_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    ledger.refuse(
        NotFound,
        field="payload.to_party",
        rule="unknown_party",
        message="payload.to_party 'Air cargo' is neither a registered staff member (username) nor a registered site",
        event_type="ShipmentHandedOver",
        aggregate_id=journey.to_manufacturer,
        payload=handover("Cryo Express", "Air cargo"),
        actor=COURIER,
        at=journey.at,
    )


def test_only_the_custodian_hands_the_shipper_over(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    ledger.refuse(
        RuleViolation,
        field="payload.from_party",
        rule="not_the_custodian",
        message="payload.from_party 'Air cargo' is not the shipper's custodian ('Cryo Express')",
        event_type="ShipmentHandedOver",
        aggregate_id=journey.to_manufacturer,
        payload=handover("Air cargo", COURIER.user_id),
        actor=COURIER,
        at=journey.at,
    )


def courier_holds_it(ledger: FakeLedger, journey: CarTJourney) -> None:
    """The courier took the shipper from the carrier company, in person."""
    shipment = journey.to_manufacturer
    ledger.record("ShipmentHandedOver", shipment, handover("Cryo Express", COURIER.user_id), COURIER, journey.at)
    journey.at += HOUR
    ledger.record("ShipmentHandOverAccepted", shipment, {"seal_intact": True}, COURIER, journey.at)


def test_a_person_custodian_signs_their_own_hand_over(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    courier_holds_it(ledger, journey)
    ledger.refuse(
        RuleViolation,
        field="user",
        rule="handover_signed_by_giver",
        message="the hand-over is signed by the giver, courier.roux, not by nurse.martin",
        event_type="ShipmentHandedOver",
        aggregate_id=journey.to_manufacturer,
        payload=handover(COURIER.user_id, QP.user_id),
        actor=NURSE,
        at=journey.at + HOUR,
    )


def test_only_the_person_named_accepts_the_shipper(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    courier_holds_it(ledger, journey)
    journey.at += HOUR
    ledger.record(
        "ShipmentHandedOver", journey.to_manufacturer, handover(COURIER.user_id, QP.user_id), COURIER, journey.at
    )
    ledger.refuse(
        RuleViolation,
        field="user",
        rule="accepted_by_receiver",
        message="only qp.moreau can accept it, not courier.roux",
        event_type="ShipmentHandOverAccepted",
        aggregate_id=journey.to_manufacturer,
        payload={"seal_intact": True},
        actor=COURIER,
        at=journey.at + HOUR,
    )


def test_a_shipper_offered_to_a_person_is_not_received_before_they_accept(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    ledger.record(
        "ShipmentHandedOver", journey.to_manufacturer, handover("Cryo Express", QP.user_id), COURIER, journey.at
    )
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="handover_not_accepted",
        message="handed over to qp.moreau, who has not accepted it yet",
        event_type="ShipmentReceived",
        aggregate_id=journey.to_manufacturer,
        payload=shipment_receipt([PRODUCT_ID], "Manufacturer Leiden"),
        actor=QP,
        at=journey.at + HOUR,
    )


def test_a_shipper_handed_over_to_its_destination_site_is_accepted_by_the_receipt(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    shipment = journey.to_manufacturer
    ledger.record("ShipmentHandedOver", shipment, handover("Cryo Express", "Manufacturer Leiden"), COURIER, journey.at)
    journey.until("ReceivedAtManufacturer")
    assert ledger.shipment(shipment).custodian == "Manufacturer Leiden"


def test_an_acceptance_without_a_hand_over_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ToManufacturer")
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="no_pending_handover",
        message="no hand-over of this shipper is waiting",
        event_type="ShipmentHandOverAccepted",
        aggregate_id=journey.to_manufacturer,
        payload={"seal_intact": True},
        actor=COURIER,
        at=journey.at,
    )

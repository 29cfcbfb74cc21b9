"""Custody integrity across products: one DIN one collection, one bag one LN2 position, site changes by shipment."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid5

import pytest
from domain_fixtures import (
    COI,
    DIN,
    NURSE,
    PHARMACIST,
    PHARMACY,
    PRODUCT_ID,
    QP,
    SECOND_DIN,
    CarTJourney,
    FakeLedger,
    batch_registration,
    iso,
    released_batch,
    storage,
)

from domain.donation import DONATION_NAMESPACE, Donation
from domain.errors import RuleViolation
from domain.identifiers import allocate_coi, parse_din, product_id_for
from domain.ln2_position import Ln2Position, position_id_for
from tests.unit.pathway_fixtures import ready_ledger, register_site, walk_pathway

OTHER_PATIENT = "PSN-9Q2W"
OTHER_COI = allocate_coi("A9999", 26, "00007B")
OTHER_PRODUCT = product_id_for(OTHER_COI)
OTHER_DIN = "G123498654322"


@pytest.fixture
def ledger() -> FakeLedger:
    found = ready_ledger()
    walk_pathway(found, pseudonym=OTHER_PATIENT)
    return found


def other_patient(ledger: FakeLedger, din: str = OTHER_DIN) -> CarTJourney:
    """A second patient's CAR-T product, with its own DIN unless told otherwise."""
    return CarTJourney(ledger, OTHER_PRODUCT, OTHER_COI.value, din=din, patient=OTHER_PATIENT)


def collection(journey: CarTJourney, din: str) -> dict[str, Any]:
    return {
        "din": din,
        "site": "CHU Lyon apheresis unit",
        "volume_ml": 250,
        "preservation": "fresh",
        "started_at": iso(journey.at - timedelta(hours=4)),
        "ended_at": iso(journey.at - timedelta(hours=1)),
    }


# -- one DIN, one collection ------------------------------------------------------------------------------------------


def test_a_din_collected_for_one_patient_is_refused_for_another_patients_collection(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ApheresisCollected")
    second = other_patient(ledger).until("ProductEnrolled")
    second.at += timedelta(days=1)
    ledger.refuse(
        RuleViolation,
        field="payload.din",
        rule="din_already_used",
        message=f"payload.din {DIN} already identifies a patient's apheresis ({PRODUCT_ID})",
        event_type="ApheresisCollected",
        aggregate_id=OTHER_PRODUCT,
        payload=collection(second, DIN),
        actor=NURSE,
        at=second.at,
    )


def test_the_same_din_scanned_as_a_barcode_is_still_the_same_collection(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ApheresisCollected")
    second = other_patient(ledger).until("ProductEnrolled")
    second.at += timedelta(days=1)
    barcode = "=" + DIN + parse_din(DIN).flag
    with pytest.raises(RuleViolation) as refused:
        ledger.record("ApheresisCollected", OTHER_PRODUCT, collection(second, barcode), NURSE, second.at)
    assert refused.value.rule == "din_already_used"


def test_each_collection_assigns_its_din_to_its_product(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ApheresisCollected")
    other_patient(ledger).until("ApheresisCollected")
    first = ledger.load(uuid5(DONATION_NAMESPACE, DIN))
    second = ledger.load(uuid5(DONATION_NAMESPACE, OTHER_DIN))
    assert isinstance(first, Donation) and first.holder_id == PRODUCT_ID and first.use == "apheresis"
    assert isinstance(second, Donation) and second.holder_id == OTHER_PRODUCT


def test_a_bank_batch_donor_din_is_refused_for_a_patients_collection(ledger: FakeLedger) -> None:
    batch_id = released_batch(ledger)
    journey = CarTJourney(ledger).until("ProductEnrolled")
    journey.at += timedelta(days=1)
    ledger.refuse(
        RuleViolation,
        field="payload.din",
        rule="din_already_used",
        message=f"payload.din {SECOND_DIN} already identifies a donor's MSC bank batch ({batch_id})",
        event_type="ApheresisCollected",
        aggregate_id=PRODUCT_ID,
        payload=collection(journey, SECOND_DIN),
        actor=NURSE,
        at=journey.at,
    )


def test_a_collected_din_is_refused_as_a_bank_batch_donor_din(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ApheresisCollected")
    ledger.refuse(
        RuleViolation,
        field="payload.donor_din",
        rule="din_already_used",
        message=f"payload.donor_din {DIN} already identifies a patient's apheresis",
        event_type="BatchRegistered",
        aggregate_id=uuid5(PRODUCT_ID, "batch"),
        payload={**batch_registration(), "donor_din": DIN},
        actor=QP,
        at=journey.at + timedelta(hours=1),
    )


# -- one LN2 position, one bag ----------------------------------------------------------------------------------------


def stored_and_second_received(ledger: FakeLedger) -> tuple[CarTJourney, CarTJourney]:
    """The first patient's product stored at the fixture's position; the second's received at the pharmacy."""
    first = CarTJourney(ledger).until("StoredInLN2")
    second = other_patient(ledger)
    second.at = first.at
    return first, second.until("ReceivedAtPharmacy")


def test_storing_into_an_occupied_position_is_refused(ledger: FakeLedger) -> None:
    _, second = stored_and_second_received(ledger)
    ledger.refuse(
        RuleViolation,
        field="payload.position",
        rule="ln2_position_occupied",
        message=f"payload.position A3 (tank T2, rack R4, box B1 at {PHARMACY}) already holds product {COI}",
        event_type="StoredInLN2",
        aggregate_id=OTHER_PRODUCT,
        payload=storage(),
        actor=PHARMACIST,
        at=second.at + timedelta(hours=1),
    )


def test_the_next_position_in_the_same_box_is_free(ledger: FakeLedger) -> None:
    _, second = stored_and_second_received(ledger)
    ledger.record("StoredInLN2", OTHER_PRODUCT, {**storage(), "position": "A4"}, PHARMACIST, second.at)
    assert ledger.product(OTHER_PRODUCT).location is not None
    assert ledger.product(OTHER_PRODUCT).location.position == "A4"  # type: ignore[union-attr]


def test_moving_a_product_within_the_pharmacy_frees_its_old_position(ledger: FakeLedger) -> None:
    _, second = stored_and_second_received(ledger)
    ledger.record("StoredInLN2", PRODUCT_ID, {**storage(), "position": "A4"}, PHARMACIST, second.at)
    ledger.record("StoredInLN2", OTHER_PRODUCT, storage(), PHARMACIST, second.at + timedelta(hours=1))
    old_place = position_id_for(PHARMACY, "T2", "R4", "B1", "A3")
    assert ledger.types(old_place) == ["Ln2PositionOccupied", "Ln2PositionFreed", "Ln2PositionOccupied"]
    ledger.refuse(
        RuleViolation,
        field="payload.position",
        rule="ln2_position_occupied",
        message=f"already holds product {OTHER_COI.value}",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload=storage(),
        actor=PHARMACIST,
        at=second.at + timedelta(hours=2),
    )


def test_a_dispensed_product_frees_its_position(ledger: FakeLedger) -> None:
    first, second = stored_and_second_received(ledger)
    first.until("Dispensed")
    ledger.record("StoredInLN2", OTHER_PRODUCT, storage(), PHARMACIST, max(first.at, second.at) + timedelta(hours=1))
    assert ledger.product(OTHER_PRODUCT).state == "stored"


def test_a_position_holds_its_occupant_and_forgets_it_when_freed(ledger: FakeLedger) -> None:
    first = CarTJourney(ledger).until("StoredInLN2")
    [position_id] = [key for key, kind in ledger.kinds.items() if kind == "ln2_position"]
    position = ledger.load(position_id)
    assert isinstance(position, Ln2Position) and position.occupant == PRODUCT_ID
    first.until("Dispensed")
    assert ledger.types(position_id) == ["Ln2PositionOccupied", "Ln2PositionFreed"]
    freed = ledger.load(position_id)
    assert isinstance(freed, Ln2Position) and freed.occupant is None


# -- a product changes site only through a shipment -------------------------------------------------------------------


def test_storage_at_another_site_than_the_products_is_refused(ledger: FakeLedger) -> None:
    register_site(ledger, "PUI CHU Grenoble", ["storage"])
    journey = CarTJourney(ledger).until("ReceivedAtPharmacy")
    ledger.refuse(
        RuleViolation,
        field="payload.site",
        rule="site_change_without_shipment",
        message=f"payload.site 'PUI CHU Grenoble' is not where the product is ('{PHARMACY}')",
        event_type="StoredInLN2",
        aggregate_id=PRODUCT_ID,
        payload={**storage(), "site": "PUI CHU Grenoble"},
        actor=PHARMACIST,
        at=journey.at + timedelta(hours=1),
    )


def test_manufacturing_at_another_site_than_the_one_that_received_the_cells_is_refused(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("ReceivedAtManufacturer")
    ledger.refuse(
        RuleViolation,
        field="payload.site",
        rule="site_change_without_shipment",
        message="a product changes site only through a shipment",
        event_type="ManufacturingStarted",
        aggregate_id=PRODUCT_ID,
        payload={"lot": "LOT-1", "site": "Cell therapy unit EFS"},
        actor=QP,
        at=journey.at + timedelta(hours=1),
    )

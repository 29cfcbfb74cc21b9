"""A receipt's temperatures judged by the ledger, end to end on both backends.

A Kymriah LN2 dry shipper (limit -120 °C, SmPC 6.4) whose logger read -60 °C: declared
"temperature ok" it is refused and nothing is stored; with the figures alone the ledger
records the excursion, signed with its own key, and the product is held; a shipper that
stayed cold passes. The ledger verifies after each.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.product import ProductState, TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import Recorder, ready, team, verify

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=50)
WARMED = {"min_c": -185.0, "max_c": -60.0, "excursion_min": 95}


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


def kymriah_in_a_dry_shipper(rec: Recorder) -> tuple[uuid.UUID, uuid.UUID, str, datetime]:
    """A released Kymriah product dispatched to the pharmacy: its id, the shipment, its COI and the arrival time."""
    ready(rec, START, code="KYMRIAH")
    coi = j.new_coi(rec.ledger.settings.facility, START.year % 100)
    product = j.enrol_car_t(rec, coi, "PSN-TEST-0001", "systemic_lupus_erythematosus", START, code="KYMRIAH")
    din = f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(rec, product, coi, din, START + timedelta(days=1))
    j.qc(rec, product, qc_at)
    rec("qp", "ProductReleased", product, qc_at + timedelta(days=1), "released", certificate_id="CoR-1")
    shipment, sent = uuid.uuid4(), qc_at + timedelta(days=2)
    rec(
        "courier", "ShipmentDispatched", shipment, sent, "performed",
        units=[str(product)], leg="to_pharmacy", from_site=j.MANUFACTURER, to_site=j.PHARMACY, courier="courier",
        shipper_id="LN2-DS-0098", data_logger_id="LOG-9120", temperature_class="ln2_dry_shipper",
        seal_ids=["SEAL-88001"],
    )  # fmt: skip
    return product, shipment, coi.value, sent + timedelta(hours=20)


def receive(rec: Recorder, shipment: uuid.UUID, product: uuid.UUID, coi: str, at: datetime, **figures: Any) -> None:
    rec(
        "pharmacist", "ShipmentReceived", shipment, at, "received",
        site=j.PHARMACY, received_units=[{"product_id": str(product), "scanned_coi": coi, "condition": "intact"}],
        seal_intact=True, data_logger_reviewed=True, certificate_of_release_checked=True, **figures,
    )  # fmt: skip


def loaded(ledger: CustodyLedger, product_id: uuid.UUID) -> TherapyProduct:
    found = ledger.load(product_id)
    assert isinstance(found, TherapyProduct)
    return found


def test_a_kymriah_dry_shipper_at_minus_60_declared_ok_is_refused_and_stores_nothing(rec: Recorder) -> None:
    product, shipment, coi, at = kymriah_in_a_dry_shipper(rec)
    size = rec.ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        receive(rec, shipment, product, coi, at, temperature_ok=True, **WARMED)
    assert (caught.value.rule, caught.value.field) == (
        "temperature_verdict_contradicts_figures",
        "payload.temperature_ok",
    )
    assert "max -60 °C" in caught.value.message and "≤ -120 °C for KYMRIAH" in caught.value.message
    assert rec.ledger.store.size() == size
    assert loaded(rec.ledger, product).state is ProductState.IN_TRANSIT
    assert verify(rec.ledger).intact


def test_with_the_figures_alone_the_ledger_signs_the_excursion_and_the_product_is_held(rec: Recorder) -> None:
    product, shipment, coi, at = kymriah_in_a_dry_shipper(rec)
    receive(rec, shipment, product, coi, at, **WARMED)
    received, excursion = rec.ledger.history(product)[-2:]
    assert received.body["type"] == "ProductReceived" and received.body["actor"]["user_id"] == "pharmacist"
    assert received.body["payload"]["temperature_ok"] is False and received.body["payload"]["max_c"] == -60.0
    assert excursion.body["type"] == "TemperatureExcursionRecorded"
    assert excursion.body["actor"] == {"user_id": "ledger", "name": "Custody Ledger", "role": "system"}
    assert excursion.body["key_id"] == rec.ledger.meta.ledger_key_id()
    assert excursion.body["payload"] == {
        "context": "shipping",
        "max_c": -60.0,
        "duration_min": 95,
        "min_c": -185.0,
        "data_logger_id": "LOG-9120",
    }
    held = loaded(rec.ledger, product)
    assert held.state is ProductState.RECEIVED_AT_PHARMACY and held.quarantined and held.quarantined_by == "ledger"
    assert verify(rec.ledger).intact
    # The ledger placed the hold, so the pharmacist who received the shipper may lift it after assessment.
    rec("pharmacist", "QuarantineLifted", product, at + timedelta(hours=2), "approved",
        reason="manufacturer's stability data cover the excursion", assessment_ref="RA-1")  # fmt: skip
    assert not loaded(rec.ledger, product).quarantined
    assert verify(rec.ledger).intact


def test_a_dry_shipper_that_stayed_below_the_limit_is_received_without_a_hold(rec: Recorder) -> None:
    product, shipment, coi, at = kymriah_in_a_dry_shipper(rec)
    receive(rec, shipment, product, coi, at, temperature_ok=True, min_c=-192.5, max_c=-171.0, excursion_min=0)
    assert [e.body["type"] for e in rec.ledger.history(product)[-1:]] == ["ProductReceived"]
    assert rec.ledger.history(product)[-1].body["payload"]["min_c"] == -192.5
    received = loaded(rec.ledger, product)
    assert received.state is ProductState.RECEIVED_AT_PHARMACY and not received.quarantined
    assert verify(rec.ledger).intact

"""An open major or critical deviation blocks release, dispense, thaw and infusion; a minor one does not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from domain_fixtures import NURSE, PHARMACIST, PRODUCT_ID, QP, CarTJourney, FakeLedger, dispense

from domain.errors import ProductOnHold
from tests.unit.pathway_fixtures import ready_ledger


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def deviate(ledger: FakeLedger, journey: CarTJourney, severity: str) -> int:
    """Record a deviation of that severity and return its version (its id)."""
    payload = {"description": "LN2 alarm acknowledged late", "severity": severity}
    ledger.record("DeviationRecorded", PRODUCT_ID, payload, PHARMACIST, journey.at)
    return len(ledger.histories[PRODUCT_ID])


def blocked(ledger: FakeLedger, journey: CarTJourney, step: str, payload: dict[str, Any], actor: Any) -> None:
    ledger.refuse(
        ProductOnHold,
        field=None,
        rule="open_deviation_blocks_step",
        message=f"cannot record {step}",
        event_type=step,
        aggregate_id=PRODUCT_ID,
        payload=payload,
        actor=actor,
        at=journey.at,
    )


@pytest.mark.parametrize("severity", ["major", "critical"])
def test_an_open_major_or_critical_deviation_blocks_the_release_until_closed(ledger: FakeLedger, severity: str) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey, severity)
    blocked(ledger, journey, "ProductReleased", {"certificate_id": "C"}, QP)
    close = {"deviation_version": version, "resolution": "investigated: no impact on the lot"}
    ledger.record("DeviationClosed", PRODUCT_ID, close, QP, journey.at)
    ledger.record("ProductReleased", PRODUCT_ID, {"certificate_id": "C"}, QP, journey.at)
    assert ledger.product().released


def test_a_minor_deviation_is_shown_but_does_not_block(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("QcResultsRecorded")
    version = deviate(ledger, journey, "minor")
    ledger.record("ProductReleased", PRODUCT_ID, {"certificate_id": "C"}, QP, journey.at)
    assert version in ledger.product().open_deviations


def test_an_open_major_deviation_blocks_the_dispense(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("LymphodepletionRecorded")
    deviate(ledger, journey, "major")
    blocked(ledger, journey, "Dispensed", dispense(), PHARMACIST)


def test_an_open_critical_deviation_blocks_the_thaw(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("Dispensed")
    deviate(ledger, journey, "critical")
    started = journey.at.isoformat()
    thaw = {"method": "dry_thawer", "started_at": started, "completed_at": started, "bag_id": "BAG-1"}
    blocked(ledger, journey, "Thawed", thaw, NURSE)


def test_an_open_major_deviation_blocks_the_infusion(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    deviate(ledger, journey, "major")
    blocked(ledger, journey, "Infused", journey.infusion(timedelta(minutes=10)), NURSE)

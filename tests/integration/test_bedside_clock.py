"""A day at the bedside on the ledger's own clock (frozen with freezegun): steps default to "now"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from freezegun import freeze_time

from api import demo_journeys as j
from domain.errors import TimeRuleViolation
from domain.identifiers import Coi
from domain.product import ProductState, TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import (
    PATIENT,
    Recorder,
    conditioned,
    identified,
    password_of,
    released_and_stored,
    team,
)


def thaw_now(rec: Recorder, ledger: CustodyLedger, started: datetime) -> tuple[Coi, UUID, str]:
    """A stored product dispensed an hour ago and thawed at the frozen 'now'."""
    journey = released_and_stored(rec, started)
    now = ledger.clock.now()
    conditioned(rec, PATIENT, now)
    bag = f"LOT-{journey.coi.sequence}-B1"
    rec(
        "pharmacist", "Dispensed", journey.product, now - timedelta(hours=1), "verified",
        to_unit=j.UNIT, scanned_coi=journey.coi.value, scanned_patient=PATIENT, release_verified=True,
    )  # fmt: skip
    rec(
        "nurse", "Thawed", journey.product, now, "performed",
        method="water_bath", started_at=j.iso(now - timedelta(minutes=5)), completed_at=j.iso(now), bag_id=bag,
    )  # fmt: skip
    return journey.coi, journey.product, bag


def check_at_bedside(ledger: CustodyLedger, coi: Coi, product: UUID) -> None:
    """Both independent bedside checks, timed by the ledger's clock."""
    for user, kind, meaning in (
        ("nurse", "BedsideCheckPerformed", "performed"),
        ("physician", "BedsideCheckWitnessed", "witnessed"),
    ):
        scans = {"scanned_coi": coi.value, "scanned_bag_id": f"LOT-{coi.sequence}-B1", **identified(ledger)}
        ledger.record(kind, product, scans, user=user, meaning=meaning, password=password_of(user))


def infuse_now(ledger: CustodyLedger, product: UUID, bag: str, started: datetime) -> None:
    """The nurse records the infusion without giving a time: the ledger's clock says when it ended.

    Her signing session has been idle longer than its limit, so she signs with her password again.
    """
    payload = {
        "started_at": started.isoformat(),
        "ended_at": ledger.clock.now().isoformat(),
        "volume_ml": 60,
        "bag_ids": [bag],
    }
    ledger.record("Infused", product, payload, user="nurse", meaning="performed", password=password_of("nurse"))


@pytest.mark.parametrize(("minutes_after_thaw", "on_time"), [(45, True), (59, True), (61, False), (180, False)])
def test_a_nurse_infuses_only_inside_the_thaw_to_infusion_window(
    ledger: CustodyLedger, minutes_after_thaw: int, on_time: bool
) -> None:
    rec = team(ledger)
    with freeze_time(datetime.now(UTC) + timedelta(days=1)) as clock:
        coi, product, bag = thaw_now(rec, ledger, ledger.clock.now() - timedelta(days=40))
        clock.tick(timedelta(minutes=minutes_after_thaw - 2))
        check_at_bedside(ledger, coi, product)
        clock.tick(timedelta(minutes=2))
        started = ledger.clock.now()
        clock.tick(timedelta(minutes=10))
        size = ledger.store.size()
        if on_time:
            infuse_now(ledger, product, bag, started)
            loaded = ledger.load(product)
            assert isinstance(loaded, TherapyProduct) and loaded.state == ProductState.INFUSED
        else:
            with pytest.raises(TimeRuleViolation) as refused:
                infuse_now(ledger, product, bag, started)
            assert refused.value.rule == "thaw_to_infusion_window_exceeded"
            assert ledger.store.size() == size


def test_a_step_cannot_be_dated_a_second_after_the_ledger_clock(ledger: CustodyLedger) -> None:
    rec = team(ledger)
    with freeze_time(datetime.now(UTC) + timedelta(days=1)):
        coi, product, _ = thaw_now(rec, ledger, ledger.clock.now() - timedelta(days=40))
        size = ledger.store.size()
        with pytest.raises(TimeRuleViolation) as refused:
            ledger.record(
                "BedsideCheckPerformed",
                product,
                {"scanned_coi": coi.value, "scanned_bag_id": f"LOT-{coi.sequence}-B1", **identified(ledger)},
                user="nurse",
                meaning="performed",
                occurred_at=ledger.clock.now() + timedelta(seconds=1),
            )
        assert refused.value.rule == "occurred_in_future" and refused.value.field == "occurred_at"
        assert ledger.store.size() == size

"""A product's stays in a tank, folded from where its facts leave it (domain/storage_stay.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.storage_stay import StorageStay, follow
from tests.unit.domain_fixtures import PHARMACIST, PRODUCT_ID, CarTJourney
from tests.unit.pathway_fixtures import ready_ledger

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
A1 = ("PUI", "T1", "R1", "B1", "A1")
A2 = ("PUI", "T1", "R1", "B1", "A2")


def test_a_stay_opens_at_the_storage_and_closes_when_the_product_leaves() -> None:
    stays = follow((), A1, T0)
    assert stays == (StorageStay(*A1, start=T0),)
    assert follow(stays, A1, T0 + timedelta(hours=1)) == stays  # another fact, still there: nothing changes
    left = follow(stays, None, T0 + timedelta(hours=5))
    assert left == (StorageStay(*A1, start=T0, end=T0 + timedelta(hours=5)),)
    assert follow(left, None, T0 + timedelta(hours=6)) == left  # closed stays are never touched again


def test_a_move_closes_one_stay_and_opens_the_next_at_the_same_moment() -> None:
    moved = T0 + timedelta(days=1)
    stays = follow(follow((), A1, T0), A2, moved)
    assert stays == (StorageStay(*A1, start=T0, end=moved), StorageStay(*A2, start=moved))
    assert stays[1].describe() == "tank T1 rack R1 box B1 position A2 at PUI"


def test_a_fact_dated_before_the_stay_never_closes_it_before_it_began() -> None:
    stays = follow(follow((), A1, T0), None, T0 - timedelta(minutes=5))
    assert stays == (StorageStay(*A1, start=T0, end=T0),)


def test_a_product_destroyed_in_its_tank_position_no_longer_stays_there() -> None:
    """Destruction leaves the location as it was: the stay ends because the product is no longer stored."""
    ledger = ready_ledger()
    journey = CarTJourney(ledger).until("StoredInLN2")
    stored = ledger.product()
    (stay,) = stored.storage_stays
    assert (stay.tank, stay.end) == (stored.location.tank if stored.location else None, None)
    destroyed_at = journey.at + timedelta(hours=2)
    destruction = {"reason": "recall", "method": "autoclave", "waste_stream": "gmo"}
    ledger.record("ProductDestroyed", PRODUCT_ID, destruction, PHARMACIST, destroyed_at)
    (closed,) = ledger.product().storage_stays
    assert (closed.start, closed.end) == (stay.start, destroyed_at)

"""Custody integrity across products, end to end on both backends: refused steps store nothing.

One DIN identifies one collection, one LN2 position holds one product, and two writers
racing for the same DIN or position cannot both win: each writes the same version of the
DIN's (or position's) aggregate in the transaction of its step, and the store keeps one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api import demo_journeys as j
from domain.errors import RuleViolation
from domain.site import site_id_for
from ledger.envelope import Envelope
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger
from ledger.store import ConcurrentChange
from projections import runner
from tests.integration.journeys import Recorder, enrolled, password_of, released_and_stored, team, verify
from tests.integration.projection_helpers import snapshot

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=50)
SECOND_PATIENT = "PSN-TEST-0002"


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


@contextmanager
def unchanged(ledger: CustodyLedger) -> Iterator[None]:
    """The block stores nothing, and the ledger still verifies after it."""
    size = ledger.store.size()
    yield
    assert ledger.store.size() == size
    assert verify(ledger).intact


def collection(din: str, start: datetime) -> dict[str, Any]:
    return {
        "din": din,
        "site": j.APHERESIS_SITE,
        "volume_ml": 245,
        "started_at": j.iso(start),
        "ended_at": j.iso(start + timedelta(hours=4)),
        "preservation": "fresh",
    }


def new_din() -> str:
    return f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"


def test_a_din_collected_for_one_patient_is_refused_for_another(ledger: CustodyLedger, rec: Recorder) -> None:
    din = new_din()
    first = enrolled(rec, START)
    rec("nurse", "ApheresisCollected", first.product, START + timedelta(days=1, hours=4), "performed",
        **collection(din, START + timedelta(days=1)))  # fmt: skip
    second = enrolled(rec, START, SECOND_PATIENT)
    with unchanged(ledger), pytest.raises(RuleViolation) as refused:
        rec("nurse", "ApheresisCollected", second.product, START + timedelta(days=2, hours=4), "performed",
            **collection(din, START + timedelta(days=2)))  # fmt: skip
    assert (refused.value.field, refused.value.rule) == ("payload.din", "din_already_used")
    assert str(first.product) in refused.value.message


def test_a_collected_din_is_refused_as_a_bank_batch_donor_din(ledger: CustodyLedger, rec: Recorder) -> None:
    din = new_din()
    first = enrolled(rec, START)
    rec("nurse", "ApheresisCollected", first.product, START + timedelta(days=1, hours=4), "performed",
        **collection(din, START + timedelta(days=1)))  # fmt: skip
    registration = {
        "lot": "MSC-LOT-1",
        "donor_din": din,
        "product_code": "MSC-BANK",
        "doses": 2,
        "site": j.MANUFACTURER,
    }
    with unchanged(ledger), pytest.raises(RuleViolation) as refused:
        rec("qp", "BatchRegistered", uuid.uuid4(), START + timedelta(days=3), "recorded", **registration)
    assert (refused.value.field, refused.value.rule) == ("payload.donor_din", "din_already_used")


def storage(position: str) -> dict[str, Any]:
    return {"site": j.PHARMACY, "tank": j.LN2_TANK, "rack": j.LN2_RACK, "box": j.LN2_BOX, "position": position,
            "temperature_c": -180.0}  # fmt: skip


def test_storing_into_an_occupied_position_is_refused_and_the_inventory_shows_one_bag_per_place(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    first = released_and_stored(rec, START)
    second = released_and_stored(rec, START, SECOND_PATIENT)
    taken = ledger.load(first.product).location.position  # type: ignore[union-attr]
    with unchanged(ledger), pytest.raises(RuleViolation) as refused:
        rec("pharmacist", "StoredInLN2", second.product, START + timedelta(days=24), "performed", **storage(taken))
    assert (refused.value.field, refused.value.rule) == ("payload.position", "ln2_position_occupied")
    assert first.coi.value in refused.value.message
    runner.catch_up(ledger.store)
    places = [(r["tank"], r["rack"], r["box"], r["position"]) for r in snapshot(ledger.store)["projection_inventory"]]
    assert len(places) == 2 and len(set(places)) == 2


def test_moving_within_the_pharmacy_frees_the_old_position(ledger: CustodyLedger, rec: Recorder) -> None:
    first = released_and_stored(rec, START)
    second = released_and_stored(rec, START, SECOND_PATIENT)
    old = ledger.load(first.product).location.position  # type: ignore[union-attr]
    rec("pharmacist", "StoredInLN2", first.product, START + timedelta(days=24), "performed", **storage("Z9"))
    rec("pharmacist", "StoredInLN2", second.product, START + timedelta(days=24, hours=1), "performed", **storage(old))
    assert ledger.load(second.product).location.position == old  # type: ignore[union-attr]


def register_pharmacy(ledger: CustodyLedger, code: str) -> None:
    """Another hospital pharmacy, registered and authorised to store cell-therapy products."""
    site, since = site_id_for(code), START - timedelta(days=100)
    for event_type, payload in (
        ("SiteRegistered", {"code": code, "name": code, "facility": "F9999"}),
        ("AccreditationGranted", {"accreditor": "jacie", "reference": "JACIE-PUI-2", "scope": ["storage"],
                                  "valid_from": since.date().isoformat(), "valid_until": "2099-12-31"}),
    ):  # fmt: skip
        ledger.record(event_type, site, payload, user=LEDGER_USER, meaning="approved", occurred_at=since)


def test_storage_at_another_site_is_refused(ledger: CustodyLedger, rec: Recorder) -> None:
    stored = released_and_stored(rec, START)
    register_pharmacy(ledger, "CHU-F8888 PUI")
    elsewhere = {**storage("B1"), "site": "CHU-F8888 PUI"}
    with unchanged(ledger), pytest.raises(RuleViolation) as refused:
        rec("pharmacist", "StoredInLN2", stored.product, START + timedelta(days=24), "performed", **elsewhere)
    assert (refused.value.field, refused.value.rule) == ("payload.site", "site_change_without_shipment")


def _gate(ledger: CustodyLedger, barrier: threading.Barrier) -> None:
    """Make this ledger wait just before it appends, after it decided on the position's head."""
    append: Callable[..., list[int]] = ledger.store.append

    def gated(envelopes: Sequence[Envelope], in_transaction: Sequence[Any] = ()) -> list[int]:
        barrier.wait()
        return append(envelopes, in_transaction)

    ledger.store.append = gated  # type: ignore[method-assign]


def test_two_pharmacists_storing_into_one_free_position_at_once_cannot_both_win(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    products = [released_and_stored(rec, START, f"PSN-TEST-000{n}") for n in (1, 2)]
    rec("pharmacist", "StoredInLN2", products[0].product, START + timedelta(days=24), "performed", **storage("Y1"))
    rec("pharmacist", "StoredInLN2", products[1].product, START + timedelta(days=24), "performed", **storage("Y2"))
    writers = [CustodyLedger(ledger.settings) for _ in products]
    barrier = threading.Barrier(len(writers), timeout=30)
    for writer in writers:
        _gate(writer, barrier)
    outcomes: list[object] = []

    def attempt(writer: CustodyLedger, product: uuid.UUID) -> None:
        try:
            outcomes.append(writer.record("StoredInLN2", product, storage("Y9"), user="pharmacist",
                                          meaning="performed", password=password_of("pharmacist")))  # fmt: skip
        except Exception as error:
            outcomes.append(error)

    threads = [threading.Thread(target=attempt, args=(w, p.product)) for w, p in zip(writers, products, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for writer in writers:
        writer.close()
    assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrentChange", "list"]
    assert any(isinstance(o, ConcurrentChange) for o in outcomes)
    places = [ledger.load(p.product).location.position for p in products]  # type: ignore[union-attr]
    assert sorted(places).count("Y9") == 1
    assert verify(ledger).intact

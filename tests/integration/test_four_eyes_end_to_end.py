"""Four eyes and corrections that count, end to end on both backends.

Each refusal stores nothing (the store's size is unchanged) and the ledger still verifies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import Recorder, enrolled, released_and_stored, team, verify

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=50)


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


@contextmanager
def refused(ledger: CustodyLedger, rule: str, field: str | None) -> Iterator[None]:
    """The block is refused with this rule and field, stores nothing, and the ledger still verifies."""
    size = ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        yield
    assert (caught.value.rule, caught.value.field) == (rule, field), caught.value.message
    assert ledger.store.size() == size
    assert verify(ledger).intact


def product(ledger: CustodyLedger, product_id: uuid.UUID) -> TherapyProduct:
    found = ledger.load(product_id)
    assert isinstance(found, TherapyProduct)
    return found


def test_the_qp_who_recorded_qc_cannot_release_it_and_stores_nothing(rec: Recorder) -> None:
    journey = enrolled(rec, START)
    din = f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(rec, journey.product, journey.coi, din, START + timedelta(days=1))
    j.qc(rec, journey.product, qc_at)
    with refused(rec.ledger, "release_by_qc_recorder", "user"):
        rec("qc", "ProductReleased", journey.product, qc_at + timedelta(hours=1), "released", certificate_id="C-1")
    rec("qp", "ProductReleased", journey.product, qc_at + timedelta(hours=2), "released", certificate_id="C-1")
    assert product(rec.ledger, journey.product).released


def test_a_courier_cannot_correct_qc_and_a_qp_correction_out_of_spec_holds_the_stored_product(rec: Recorder) -> None:
    journey = released_and_stored(rec, START)
    qc_version = next(v for v, (t, _) in product(rec.ledger, journey.product).facts.items() if t == "QcResultsRecorded")
    original = product(rec.ledger, journey.product).facts[qc_version][1]
    failed = [dict(test, in_spec=False, value=61, result="61 %") if test["name"] == "viability" else test
              for test in original["tests"]]  # fmt: skip
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    correction = {"corrects_version": qc_version, "reason": "viability misread", "corrections": {"tests": failed}}
    with refused(rec.ledger, "corrector_role_not_allowed", "user"):
        rec("courier", "EventCorrected", journey.product, at, "authored", **correction)
    rec("qc", "EventCorrected", journey.product, at, "authored", **correction)
    held = product(rec.ledger, journey.product)
    assert held.qc_in_spec is False and held.quarantined and held.facts[qc_version][1] == original
    with refused(rec.ledger, "qc_out_of_spec_needs_exceptional_release", None):
        rec("pharmacist", "QuarantineLifted", journey.product, at + timedelta(minutes=1), "approved",
            reason="assessed", assessment_ref="QA-1")  # fmt: skip

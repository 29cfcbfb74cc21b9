"""An impact assessment lets a step through an open major deviation, end to end on both backends.

A major deviation blocks the release; a nurse cannot sign the assessment, nor a physician
for the release; the QP's assessment lets the release through while the deviation stays
open. At the bedside, a physician who is not the product's treating physician cannot allow
the infusion; the treating physician can. Every refusal stores nothing and the ledger verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from api import demo_journeys as j
from domain.errors import CustodyError
from domain.product import TherapyProduct
from ledger.service import CustodyLedger
from tests.integration.journeys import (
    PATIENT,
    Recorder,
    conditioned,
    enrolled,
    identified,
    released_and_stored,
    team,
    verify,
)

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=50)


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    """The team: "qc" records QC and "qp" releases (four eyes); "physician" treats and "internist" does not."""
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


def product_of(ledger: CustodyLedger, product_id: UUID) -> TherapyProduct:
    found = ledger.load(product_id)
    assert isinstance(found, TherapyProduct)
    return found


def assessment(version: int, *steps: str) -> dict[str, Any]:
    return {
        "deviation_version": version,
        "steps": list(steps),
        "assessment": "pressure alarm of 40 s during fill; particle counts and sterility within limits",
        "assessment_ref": "IA-2026-014",
    }


def test_a_qp_assessment_lets_the_release_through_a_major_deviation_that_stays_open(rec: Recorder) -> None:
    journey = enrolled(rec, START)
    din = f"G1234{START.year % 100:02d}{journey.product.int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(rec, journey.product, journey.coi, din, START + timedelta(days=1))
    j.qc(rec, journey.product, qc_at)
    [deviation] = rec("qp", "DeviationRecorded", journey.product, qc_at + timedelta(hours=1), "recorded",
                      description="clean-room pressure alarm during fill", severity="major")  # fmt: skip
    release_at = qc_at + timedelta(hours=3)
    with refused(rec.ledger, "open_deviation_blocks_step", None):
        rec("qp", "ProductReleased", journey.product, release_at, "released", certificate_id="C-1")
    with refused(rec.ledger, "role_not_allowed", "user"):
        rec("nurse", "DeviationImpactAssessed", journey.product, qc_at + timedelta(hours=2), "reviewed",
            **assessment(deviation.version, "release"))  # fmt: skip
    with refused(rec.ledger, "impact_assessment_wrong_role", "user"):
        rec("physician", "DeviationImpactAssessed", journey.product, qc_at + timedelta(hours=2), "reviewed",
            **assessment(deviation.version, "release"))  # fmt: skip
    rec("qp", "DeviationImpactAssessed", journey.product, qc_at + timedelta(hours=2), "reviewed",
        **assessment(deviation.version, "release"))  # fmt: skip
    rec("qp", "ProductReleased", journey.product, release_at, "released", certificate_id="C-1")
    product = product_of(rec.ledger, journey.product)
    assert product.released
    assert product.open_deviations == {deviation.version: "clean-room pressure alarm during fill"}
    assert verify(rec.ledger).intact


def test_only_the_treating_physician_lets_the_infusion_through_a_critical_deviation(rec: Recorder) -> None:
    journey = released_and_stored(rec, START)
    when = START + timedelta(days=25)
    [deviation] = rec("pharmacist", "DeviationRecorded", journey.product, when - timedelta(days=1), "recorded",
                      description="LN2 tank alarm acknowledged late", severity="critical")  # fmt: skip
    identified(rec.ledger, PATIENT)
    conditioned(rec, PATIENT, when)
    with refused(rec.ledger, "open_deviation_blocks_step", None):
        rec("pharmacist", "Dispensed", journey.product, when, "verified", to_unit=j.UNIT,
            scanned_coi=journey.coi.value, scanned_patient=PATIENT, release_verified=True)  # fmt: skip
    assessed_at = when - timedelta(hours=2)
    with refused(rec.ledger, "impact_assessment_not_treating_physician", "user"):
        rec("internist", "DeviationImpactAssessed", journey.product, assessed_at, "approved",
            **assessment(deviation.version, "dispense", "thaw", "infusion"))  # fmt: skip
    rec("physician", "DeviationImpactAssessed", journey.product, assessed_at, "approved",
        **assessment(deviation.version, "dispense", "thaw", "infusion"))  # fmt: skip
    j.administer(rec, journey.product, journey.coi, PATIENT, f"LOT-{journey.coi.sequence}-B1", when)
    product = product_of(rec.ledger, journey.product)
    assert str(product.state) == "infused"
    assert deviation.version in product.open_deviations
    assert verify(rec.ledger).intact

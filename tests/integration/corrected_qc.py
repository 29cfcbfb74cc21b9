"""Products whose QC reads differently once corrected, or lacks a test of the panel, for the read-side tests.

The default CAR-T panel (domain/release_panel.py) judges viability at ≥ 80 %; ``api.demo_journeys.qc``
records 92 %. A correction to 61 % puts the lot out of specification.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from api import demo_journeys as j
from ledger.service import CustodyLedger
from tests.integration.journeys import Journey, Recorder, enrolled

VIABILITY_FIRST = 92
VIABILITY_CORRECTED = 61


def version_of(ledger: CustodyLedger, product: UUID, event_type: str) -> int:
    """The version of the product's (only) event of that type."""
    versions = [e.body["version"] for e in ledger.history(product) if e.body["type"] == event_type]
    assert len(versions) == 1, versions
    return int(versions[0])


def viability_tests(ledger: CustodyLedger, product: UUID, viability: float) -> list[dict[str, Any]]:
    """The first QC record's tests, viability changed to ``viability`` % with the verdict that goes with it."""
    first = next(e.body["payload"] for e in ledger.history(product) if e.body["type"] == "QcResultsRecorded")
    return [
        dict(test, value=viability, result=f"{viability:g} %", in_spec=viability >= 80)
        if test["name"] == "viability"
        else test
        for test in first["tests"]
    ]


def correct_viability(
    rec: Recorder, product: UUID, corrects_version: int, viability: float, reason: str, when: datetime
) -> int:
    """The QC recorder corrects the viability; returns the correction's version."""
    tests = viability_tests(rec.ledger, product, viability)
    stored = rec("qc", "EventCorrected", product, when, "authored",
                 corrects_version=corrects_version, reason=reason, corrections={"tests": tests})  # fmt: skip
    return int(stored[-1].body["version"])


def manufactured_without_potency(rec: Recorder, start: datetime) -> Journey:
    """A lot whose QC record has every test of the panel but potency: in specification, not releasable."""
    journey = enrolled(rec, start)
    din = f"G1234{start.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    qc_at = j.collect_and_manufacture(rec, journey.product, journey.coi, din, start + timedelta(days=1))
    tests = [
        {"name": "sterility", "result": "no growth", "specification": "no growth", "in_spec": True},
        {"name": "endotoxin", "result": "0.4 EU/mL", "specification": "< 5 EU/mL", "in_spec": True,
         "value": 0.4, "unit": "EU/mL"},
        {"name": "mycoplasma", "result": "negative", "specification": "negative", "in_spec": True},
        {"name": "viability", "result": "92 %", "specification": ">= 80 %", "in_spec": True, "value": 92, "unit": "%"},
        {"name": "CAR expression", "result": "38 %", "specification": ">= 15 %", "in_spec": True,
         "value": 38, "unit": "%"},
        {"name": "vector copy number", "result": "1.6 copies/cell", "specification": "<= 5 copies/cell",
         "in_spec": True, "value": 1.6, "unit": "copies/cell"},
    ]  # fmt: skip
    rec("qc", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=tests)
    return journey

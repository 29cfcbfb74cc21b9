"""Judged, not declared, end to end on both backends: the ledger computes QC verdicts and refuses contradictions.

Every refusal stores nothing (the store's size is unchanged) and the ledger still verifies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api import demo_journeys as j
from domain.errors import CustodyError
from ledger.service import CustodyLedger
from tests.integration.journeys import Journey, Recorder, enrolled, register_qualified, team, verify

START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=50)


RELEASER = "qp.release"
"""A second QP, who releases what the team's QP tested (four eyes)."""


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    recorder = team(ledger)
    register_qualified(ledger, RELEASER, "Rita Release", "qp", "release-password")
    recorder.passwords[RELEASER] = "release-password"
    return recorder


@contextmanager
def refused(ledger: CustodyLedger, rule: str, field: str | None) -> Iterator[None]:
    """The block is refused with this rule and field, stores nothing, and the ledger still verifies."""
    size = ledger.store.size()
    with pytest.raises(CustodyError) as caught:
        yield
    assert (caught.value.rule, caught.value.field) == (rule, field), caught.value.message
    assert ledger.store.size() == size
    assert verify(ledger).intact


def manufactured(rec: Recorder) -> tuple[Journey, datetime]:
    journey = enrolled(rec, START)
    din = f"G1234{START.year % 100:02d}{uuid.uuid4().int % 1_000_000:06d}"
    return journey, j.collect_and_manufacture(rec, journey.product, journey.coi, din, START + timedelta(days=1))


def viability(value: float, declared: bool) -> dict[str, Any]:
    return {"name": "viability", "result": f"{value:g} %", "specification": ">= 80 %", "in_spec": declared,
            "value": value, "unit": "%"}  # fmt: skip


def test_a_viability_of_60_declared_in_specification_is_refused_and_stores_nothing(rec: Recorder) -> None:
    journey, qc_at = manufactured(rec)
    with refused(rec.ledger, "qc_verdict_contradicts_results", "payload.tests[0].in_spec"):
        rec("qp", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=[viability(60, True)])
    rec("qp", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=[viability(60, False)])
    product = rec.ledger.load(journey.product)
    assert getattr(product, "state", None) == "qc_out_of_spec"


def test_release_waits_for_the_whole_panel_then_goes_ahead(rec: Recorder) -> None:
    journey, qc_at = manufactured(rec)
    rec("qp", "QcResultsRecorded", journey.product, qc_at, "reviewed", tests=[viability(91, True)])
    with refused(rec.ledger, "qc_panel_incomplete", None):
        rec(RELEASER, "ProductReleased", journey.product, qc_at + timedelta(hours=1), "released", certificate_id="C-1")
    j.qc(rec, journey.product, qc_at + timedelta(hours=2))
    rec(RELEASER, "ProductReleased", journey.product, qc_at + timedelta(hours=3), "released", certificate_id="C-1")
    product = rec.ledger.load(journey.product)
    assert getattr(product, "released", False) is True


def test_an_open_major_deviation_blocks_the_release_until_it_is_closed(rec: Recorder) -> None:
    journey, qc_at = manufactured(rec)
    j.qc(rec, journey.product, qc_at)
    deviation = rec("qp", "DeviationRecorded", journey.product, qc_at + timedelta(hours=1), "recorded",
                    description="clean-room pressure alarm during fill", severity="major")  # fmt: skip
    with refused(rec.ledger, "open_deviation_blocks_step", None):
        rec(RELEASER, "ProductReleased", journey.product, qc_at + timedelta(hours=2), "released", certificate_id="C-2")
    rec("qp", "DeviationClosed", journey.product, qc_at + timedelta(hours=3), "approved",
        deviation_version=deviation[0].version, resolution="particle counts within limits; no impact")  # fmt: skip
    rec(RELEASER, "ProductReleased", journey.product, qc_at + timedelta(hours=4), "released", certificate_id="C-2")
    assert getattr(rec.ledger.load(journey.product), "released", False) is True

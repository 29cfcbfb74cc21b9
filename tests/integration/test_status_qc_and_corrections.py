"""On both backends: a product's status shows each QC test beside its criterion, with the computed verdict and
missing tests, and every corrected fact with its original values, each correction and the values in force."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ledger.clock import parse_instant
from ledger.service import CustodyLedger
from projections import queries
from projections.status_query import status_as_of, status_now
from tests.integration.corrected_qc import (
    correct_viability,
    manufactured_without_potency,
    version_of,
)
from tests.integration.journeys import PATIENT, Recorder, released_and_stored, team


@pytest.fixture
def rec(ledger: CustodyLedger) -> Recorder:
    return team(ledger)


def _now(ledger: CustodyLedger, product: Any) -> dict[str, Any]:
    return status_now(ledger.store, product, ledger.clock.now(), ledger.catalogue)


def _test(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(test for test in status["qc"]["tests"] if test["name"] == name)


def test_a_qc_result_corrected_out_of_specification_shows_both_values_the_verdict_and_the_chain(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = released_and_stored(rec, ledger.clock.now() - timedelta(days=30))
    qc = version_of(ledger, journey.product, "QcResultsRecorded")
    before = _now(ledger, journey.product)
    assert _test(before, "viability") == {
        "name": "viability", "in_panel": True, "criterion": "≥ 80 %", "criterion_unit": "%",
        "value": 92, "unit": "%", "result": "92 %", "verdict": "in_spec", "verdict_basis": "computed",
        "declared_in_spec": True, "recorded_version": qc, "corrected_by": [], "original": None,
    }  # fmt: skip
    assert before["corrections"] == [] and before["qc"]["out_of_specification"] == []

    corrected_at = ledger.clock.now() - timedelta(minutes=5)
    fix = correct_viability(rec, journey.product, qc, 61, "viability misread from the counter", corrected_at)
    status = _now(ledger, journey.product)

    assert _test(status, "viability") == {
        "name": "viability", "in_panel": True, "criterion": "≥ 80 %", "criterion_unit": "%",
        "value": 61, "unit": "%", "result": "61 %", "verdict": "out_of_spec", "verdict_basis": "computed",
        "declared_in_spec": False, "recorded_version": qc, "corrected_by": [fix],
        "original": {"value": 92, "unit": "%", "result": "92 %", "verdict": "in_spec", "verdict_basis": "computed",
                     "declared_in_spec": True},
    }  # fmt: skip
    qc_summary = status["qc"]
    assert (qc_summary["complete"], qc_summary["missing"], qc_summary["out_of_specification"]) == (
        True, [], ["viability"],
    )  # fmt: skip
    assert [test["name"] for test in qc_summary["tests"]] == [
        "viability", "sterility", "endotoxin", "mycoplasma", "CAR expression", "vector copy number", "potency",
    ]  # fmt: skip
    assert _test(status, "sterility")["verdict"] == "in_spec" and _test(status, "sterility")["original"] is None
    [chain] = status["corrections"]
    assert (chain["version"], chain["event_type"], chain["fields"]) == (qc, "QcResultsRecorded", ["tests"])
    assert [(c["version"], c["corrects_version"], c["user_id"], c["role"], c["reason"], c["fields"])
            for c in chain["corrections"]] == [
        (fix, qc, "qc", "qp", "viability misread from the counter", ["tests"]),
    ]  # fmt: skip
    assert chain["changes"] == [
        {"path": "tests[viability].in_spec", "original": True, "in_force": False},
        {"path": "tests[viability].result", "original": "92 %", "in_force": "61 %"},
        {"path": "tests[viability].value", "original": 92, "in_force": 61},
    ]
    assert status["holds"][0]["kind"] == "quarantine" and "viability" in status["holds"][0]["reason"]


def test_a_correction_of_a_correction_shows_as_a_chain_and_as_of_replays_each_link(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = released_and_stored(rec, ledger.clock.now() - timedelta(days=30))
    qc = version_of(ledger, journey.product, "QcResultsRecorded")
    first = correct_viability(rec, journey.product, qc, 61, "misread", ledger.clock.now() - timedelta(minutes=9))
    between = ledger.clock.now()
    second = correct_viability(rec, journey.product, first, 64, "recount", ledger.clock.now() - timedelta(minutes=8))

    [chain] = _now(ledger, journey.product)["corrections"]
    assert [(c["version"], c["corrects_version"], c["reason"]) for c in chain["corrections"]] == [
        (first, qc, "misread"),
        (second, first, "recount"),
    ]
    assert {change["path"]: (change["original"], change["in_force"]) for change in chain["changes"]} == {
        "tests[viability].in_spec": (True, False),
        "tests[viability].result": ("92 %", "64 %"),
        "tests[viability].value": (92, 64),
    }
    viability = _test(_now(ledger, journey.product), "viability")
    assert (viability["value"], viability["original"]["value"], viability["corrected_by"]) == (64, 92, [first, second])

    then = status_as_of(ledger.store, journey.product, between, ledger.catalogue)
    assert [c["version"] for c in then["corrections"][0]["corrections"]] == [first]
    assert (_test(then, "viability")["value"], _test(then, "viability")["corrected_by"]) == (61, [first])


def test_a_test_missing_from_the_panel_is_listed_as_missing_and_the_panel_incomplete(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = manufactured_without_potency(rec, ledger.clock.now() - timedelta(days=30))
    status = _now(ledger, journey.product)
    assert status["state"] == "qc_in_spec"
    assert (status["qc"]["complete"], status["qc"]["missing"]) == (False, ["potency"])
    assert _test(status, "potency") == {
        "name": "potency", "in_panel": True, "criterion": "conforms", "criterion_unit": None,
        "value": None, "unit": None, "result": None, "verdict": "missing", "verdict_basis": None,
        "declared_in_spec": None, "recorded_version": None, "corrected_by": [], "original": None,
    }  # fmt: skip
    assert len(status["qc"]["tests"]) == 7


def test_before_manufacture_there_is_no_qc_to_show(ledger: CustodyLedger, rec: Recorder) -> None:
    journey = released_and_stored(rec, ledger.clock.now() - timedelta(days=30))
    enrolment = ledger.history(journey.product)[0].body["recorded_at"]
    then = status_as_of(ledger.store, journey.product, parse_instant(enrolment), ledger.catalogue)
    assert then["qc"] is None and then["corrections"] == []


def test_the_patient_timeline_and_the_audit_trail_show_the_chain_beside_the_corrected_fact(
    ledger: CustodyLedger, rec: Recorder
) -> None:
    journey = released_and_stored(rec, ledger.clock.now() - timedelta(days=30))
    qc = version_of(ledger, journey.product, "QcResultsRecorded")
    fix = correct_viability(rec, journey.product, qc, 61, "misread", ledger.clock.now() - timedelta(minutes=5))

    rows = queries.timeline(ledger.store, PATIENT)
    corrected = [row for row in rows if row["corrections"] is not None]
    assert [(row["version"], row["event_type"]) for row in corrected] == [(qc, "QcResultsRecorded")]
    signed = {test["name"]: test for test in corrected[0]["payload"]["tests"]}
    assert signed["viability"]["value"] == 92, "the row keeps the payload as signed"
    assert [c["version"] for c in corrected[0]["corrections"]["corrections"]] == [fix]
    [correction_row] = [row for row in rows if row["event_type"] == "EventCorrected"]
    assert correction_row["corrects"] == {"version": qc, "event_type": "QcResultsRecorded"}

    trail = queries.audit(ledger.store, user="qc")
    [chain] = trail["corrections"]
    assert (chain["aggregate_id"], chain["version"], [c["version"] for c in chain["corrections"]]) == (
        str(journey.product), qc, [fix],
    )  # fmt: skip

"""Over HTTP, on both backends: a product's status carries its QC results beside the release panel's criteria and
every corrected fact's chain, as JSON; a QC result corrected out of specification shows both values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.service import CustodyLedger
from tests.api.conftest import START, password
from tests.integration.corrected_qc import manufactured_without_potency, version_of, viability_tests
from tests.integration.journeys import Recorder, released_and_stored


def test_a_qc_result_corrected_out_of_specification_reads_as_both_values_and_the_verdict(
    sign_in: Any, team: Recorder, ledger: CustodyLedger
) -> None:
    journey = released_and_stored(team, START)
    qc = version_of(ledger, journey.product, "QcResultsRecorded")
    body = {
        "type": "EventCorrected", "meaning": "authored", "password": password("qc"),
        "payload": {"corrects_version": qc, "reason": "viability misread",
                    "corrections": {"tests": viability_tests(ledger, journey.product, 61)}},
    }  # fmt: skip
    assert sign_in("qc").post(f"/products/{journey.product}/events", body).status_code == 201
    fix = len(ledger.history(journey.product))

    status = sign_in("pharmacist").get(f"/products/{journey.coi.value}").json()

    viability = next(test for test in status["qc"]["tests"] if test["name"] == "viability")
    assert viability == {
        "name": "viability", "in_panel": True, "criterion": "≥ 80 %", "criterion_unit": "%",
        "value": 61, "unit": "%", "result": "61 %", "verdict": "out_of_spec", "verdict_basis": "computed",
        "declared_in_spec": False, "recorded_version": qc, "corrected_by": [fix],
        "original": {"value": 92, "unit": "%", "result": "92 %", "verdict": "in_spec", "verdict_basis": "computed",
                     "declared_in_spec": True},
    }  # fmt: skip
    assert (status["qc"]["complete"], status["qc"]["out_of_specification"]) == (True, ["viability"])
    [chain] = status["corrections"]
    assert (chain["version"], chain["event_type"]) == (qc, "QcResultsRecorded")
    assert [(c["version"], c["corrects_version"], c["user_id"], c["reason"]) for c in chain["corrections"]] == [
        (fix, qc, "qc", "viability misread")
    ]
    assert chain["changes"] == [
        {"path": "tests[viability].in_spec", "original": True, "in_force": False},
        {"path": "tests[viability].result", "original": "92 %", "in_force": "61 %"},
        {"path": "tests[viability].value", "original": 92, "in_force": 61},
    ]
    audit = sign_in("auditor").get("/audit", params={"user": "qc"}).json()
    assert [(c["aggregate_id"], c["version"]) for c in audit["corrections"]] == [(str(journey.product), qc)]


def test_a_test_missing_from_the_panel_reads_as_missing(sign_in: Any, team: Recorder) -> None:
    journey = manufactured_without_potency(team, START + timedelta(days=1))
    status = sign_in("qp").get(f"/products/{journey.product}").json()
    assert (status["qc"]["complete"], status["qc"]["missing"]) == (False, ["potency"])
    potency = status["qc"]["tests"][-1]
    assert (potency["name"], potency["verdict"], potency["criterion"], potency["value"]) == (
        "potency", "missing", "conforms", None,
    )  # fmt: skip

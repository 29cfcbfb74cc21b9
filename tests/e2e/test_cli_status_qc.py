"""`custody status`: each QC test beside its criterion with the verdict in words, and a QC result corrected out of
specification shown beside the value first signed, in text and JSON, on both backends.

The module records on its own scratch demonstration ledger (one per backend).
"""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import Custody

QC_PASSWORD = "qc-demo-pass\n"


def _body(custody: Custody, product: str, event_type: str) -> dict[str, Any]:
    bodies = [e["body"] for e in custody.run_json("show", product)["events"] if e["body"]["type"] == event_type]
    assert len(bodies) == 1, bodies
    return dict(bodies[0])


def test_a_qc_result_corrected_out_of_specification_shows_both_values_and_the_verdict(
    scratch_ledger: Custody,
) -> None:
    product = scratch_ledger.demo["products"][0]
    qc = _body(scratch_ledger, product, "QcResultsRecorded")
    lot = _body(scratch_ledger, product, "ManufacturingStarted")["payload"]["lot"]
    before = scratch_ledger.run("status", product).stdout
    assert "    viability: 92 % (criterion ≥ 80 %): in specification\n" in before
    assert "CORRECTED" not in before

    tests = [dict(t, value=61, result="61 %", in_spec=False) if t["name"] == "viability" else t
             for t in qc["payload"]["tests"]]  # fmt: skip
    correction = {"corrects_version": qc["version"], "reason": "viability misread", "corrections": {"tests": tests}}
    scratch_ledger.run(
        "record", "EventCorrected", product, "--user", "qc", "--meaning", "authored", "--password-stdin",
        "--payload", json.dumps(correction), stdin=QC_PASSWORD,
    )  # fmt: skip
    fix = _body(scratch_ledger, product, "EventCorrected")

    text = scratch_ledger.run("status", product).stdout
    assert (
        f"  QC of lot {lot} against the release panel of ACADEMIC-CD19: complete; 1 out of specification (viability)\n"
    ) in text
    assert (
        f"    viability: 61 % (criterion ≥ 80 %): OUT OF SPECIFICATION; corrected at v{fix['version']}, "
        f"first signed at v{qc['version']} as 92 %: in specification\n"
    ) in text
    assert "    potency: conforms (criterion conforms): in specification\n" in text
    assert (
        f"  CORRECTED v{qc['version']} QcResultsRecorded (tests), first signed by Sophie Marchand at "
        f"{qc['occurred_at']}:\n"
        f"    v{fix['version']} {fix['recorded_at']} Sophie Marchand (qp) corrects v{qc['version']}: tests, "
        "reason: viability misread\n"
        "    tests[viability].in_spec: original true, in force false\n"
        '    tests[viability].result: original "92 %", in force "61 %"\n'
    ) in text
    assert "    tests[viability].value: original 92" in text and ", in force 61" in text

    shown = scratch_ledger.run_json("status", product)
    viability = next(test for test in shown["qc"]["tests"] if test["name"] == "viability")
    assert (viability["value"], viability["verdict"]) == (61, "out_of_spec")
    assert viability["corrected_by"] == [fix["version"]]
    assert (viability["original"]["value"], viability["original"]["verdict"]) == (92, "in_spec")
    assert [c["version"] for c in shown["corrections"][0]["corrections"]] == [fix["version"]]

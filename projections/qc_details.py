"""A product's QC results beside the release panel's criteria: what was measured, against what, and the verdict.

The QP, the pharmacist and the inspector read the same thing: for each test of the
panel of the catalogue in force (domain/release_panel.py), the measured value and
its unit, the acceptance criterion, the verdict computed from them, and a test with
no result named as missing, since a lot is released only on the whole panel
(README, "Judged, not declared"). A result changed by an ``EventCorrected`` shows the value
first signed beside the one in force, so a correction can never pass for the
original measurement.

Results are folded the way ``TherapyProduct`` folds them: only the current lot's
(a new ``ManufacturingStarted`` voids the last lot's QC), a retest replaces that
test's result, and a correction of a QC record replaces the tests it names. A test
the panel does not list (a site's investigational test) is shown with the
specification and verdict its recorder declared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.catalogue import Catalogue
from domain.events import EventRecord
from domain.product import TherapyProduct
from domain.release_panel import QcCriterion, missing_tests, test_key
from projections.corrections import CORRECTION, SignedFact, root_version

IN_SPEC = "in_spec"
OUT_OF_SPEC = "out_of_spec"
MISSING = "missing"
COMPUTED = "computed"
DECLARED = "declared"


@dataclass
class _Result:
    """One test's result in force, the QC record it belongs to, and what that record first said of it."""

    test: Mapping[str, Any]
    recorded_version: int
    original: Mapping[str, Any] | None = None
    corrected_by: list[int] = field(default_factory=list)


def qc_panel(product: TherapyProduct, records: Sequence[EventRecord], catalogue: Catalogue) -> dict[str, Any] | None:
    """The current lot's QC against its panel; None before manufacture and for a bank dose (its batch holds QC)."""
    if product.batch_id is not None or product.lot is None:
        return None
    panel = catalogue.get(product.product_code).release_panel if product.product_code in catalogue else None
    results = _results_in_force(records)
    criteria = {test_key(criterion.name): criterion for criterion in panel or ()}
    tests = [_panel_test(criterion, results.get(test_key(criterion.name))) for criterion in panel or ()]
    tests += [_extra_test(result) for key, result in results.items() if key not in criteria]
    missing = [] if panel is None else missing_tests(panel, (str(r.test["name"]) for r in results.values()))
    return {
        "lot": product.lot,
        "product_code": product.product_code,
        "panel_known": panel is not None,
        "complete": None if panel is None else not missing,
        "missing": missing,
        "out_of_specification": [test["name"] for test in tests if test["verdict"] == OUT_OF_SPEC],
        "tests": tests,
    }


def _results_in_force(records: Sequence[EventRecord]) -> dict[str, _Result]:
    """Each test's result in force for the current lot, by test key, in the order first recorded.

    A correction restates the whole list of tests; a test it restates unchanged keeps its reading and history.
    """
    facts = {record.version: SignedFact.of_record(record) for record in records}
    lot_start = max((r.version for r in records if r.type == "ManufacturingStarted"), default=0)
    qc_records: dict[int, Mapping[str, Any]] = {}
    results: dict[str, _Result] = {}
    for record in records:
        if record.version < lot_start:
            continue
        if record.type == "QcResultsRecorded":
            qc_records[record.version] = record.payload
            for test in record.payload["tests"]:
                results[test_key(test["name"])] = _Result(test, record.version)
        elif record.type == CORRECTION:
            root = root_version(facts, record.version)
            corrections = record.payload["corrections"]
            if root not in qc_records or "tests" not in corrections:
                continue
            first = {test_key(test["name"]): test for test in qc_records[root]["tests"]}
            for test in corrections["tests"]:
                key = test_key(test["name"])
                before = results.get(key)
                if before is not None and _same(before.test, test):
                    continue  # restated unchanged beside the test it corrects: not a correction of this one
                earlier = before.corrected_by if before is not None and before.recorded_version == root else []
                results[key] = _Result(test, root, first.get(key), [*earlier, record.version])
    return results


def _same(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """The same reading, an absent field and a null one alike."""
    return {k: v for k, v in one.items() if v is not None} == {k: v for k, v in other.items() if v is not None}


def verdict(criterion: QcCriterion | None, test: Mapping[str, Any]) -> tuple[str, str]:
    """``(in_spec | out_of_spec, computed | declared)``: computed from the measured value and the criterion
    whenever they can be compared (a numeric test with its value, in the criterion's unit), else as declared."""
    declared = IN_SPEC if test.get("in_spec") else OUT_OF_SPEC
    if criterion is None:
        return declared, DECLARED
    if criterion.numeric:
        value, unit = test.get("value"), test.get("unit")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return declared, DECLARED
        if criterion.unit is not None and str(unit or "").strip() != criterion.unit:
            return declared, DECLARED
        accepted = criterion.accepts(float(value), str(test.get("result", "")))
    else:
        accepted = criterion.accepts(None, str(test.get("result", "")))
    return (IN_SPEC if accepted else OUT_OF_SPEC), COMPUTED


def _reading(criterion: QcCriterion | None, test: Mapping[str, Any]) -> dict[str, Any]:
    """One result as read: measured value, unit, reading, verdict, and the verdict its recorder declared."""
    judged, basis = verdict(criterion, test)
    return {
        "value": test.get("value"),
        "unit": test.get("unit"),
        "result": test.get("result"),
        "verdict": judged,
        "verdict_basis": basis,
        "declared_in_spec": test.get("in_spec"),
    }


def _panel_test(criterion: QcCriterion, result: _Result | None) -> dict[str, Any]:
    if result is None:
        return {
            "name": criterion.name, "in_panel": True, "criterion": criterion.describe(),
            "criterion_unit": criterion.unit, "value": None, "unit": None, "result": None, "verdict": MISSING,
            "verdict_basis": None, "declared_in_spec": None, "recorded_version": None, "corrected_by": [],
            "original": None,
        }  # fmt: skip
    return _shown(criterion.name, True, criterion.describe(), criterion.unit, criterion, result)


def _extra_test(result: _Result) -> dict[str, Any]:
    test = result.test
    return _shown(str(test["name"]), False, str(test.get("specification", "")), None, None, result)


def _shown(
    name: str, in_panel: bool, described: str, unit: str | None, criterion: QcCriterion | None, result: _Result
) -> dict[str, Any]:
    """A recorded test: its reading in force, and when corrected, the reading first signed beside it."""
    corrected = bool(result.corrected_by)
    original = None
    if corrected:
        original = None if result.original is None else _reading(criterion, result.original)
    return {
        "name": name,
        "in_panel": in_panel,
        "criterion": described,
        "criterion_unit": unit,
        **_reading(criterion, result.test),
        "recorded_version": result.recorded_version,
        "corrected_by": list(result.corrected_by),
        "original": original,
    }

"""QC is judged by the ledger: measured values against the catalogue's panel, and release needs the whole panel."""

from __future__ import annotations

from typing import Any

import pytest
from domain_fixtures import PRODUCT_ID, QC_QP, QP, CarTJourney, FakeLedger, qc, qc_test

from domain.catalogue import Catalogue
from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.product import ProductState
from domain.product_events import QcTest
from domain.release_panel import judge_results, missing_tests
from tests.unit.pathway_fixtures import ready_ledger


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def manufactured(ledger: FakeLedger) -> CarTJourney:
    return CarTJourney(ledger).until("ManufacturingCompleted")


def with_test(replaced: dict[str, Any]) -> dict[str, Any]:
    """The passing panel with one test replaced by name."""
    tests = [replaced if t["name"] == replaced["name"] else t for t in qc(True)["tests"]]
    return {"tests": tests}


def refuse_qc(ledger: FakeLedger, journey: CarTJourney, payload: dict[str, Any], **expected: Any) -> None:
    ledger.refuse(
        event_type="QcResultsRecorded", aggregate_id=PRODUCT_ID, payload=payload, actor=QC_QP, at=journey.at, **expected
    )


def test_a_viability_of_60_declared_in_specification_is_refused_against_the_80_percent_criterion(
    ledger: FakeLedger,
) -> None:
    journey = manufactured(ledger)
    lie = qc_test("viability", "60 %", ">= 80 %", True, 60.0, "%")
    refuse_qc(
        ledger,
        journey,
        with_test(lie),
        error=RuleViolation,
        field="payload.tests[0].in_spec",
        rule="qc_verdict_contradicts_results",
        message="viability measured 60 % is out of specification (≥ 80 %)",
    )


def test_sterility_reading_growth_declared_in_specification_is_refused(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    lie = qc_test("sterility", "growth", "no growth", True)
    refuse_qc(
        ledger,
        journey,
        with_test(lie),
        error=RuleViolation,
        field="payload.tests[1].in_spec",
        rule="qc_verdict_contradicts_results",
        message="'growth' is out of specification (no growth)",
    )


def test_a_passing_value_declared_out_of_specification_is_refused_too(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    wrong = qc_test("endotoxin", "0.5 EU/mL", "< 5 EU/mL", False, 0.5, "EU/mL")
    refuse_qc(
        ledger,
        journey,
        with_test(wrong),
        error=RuleViolation,
        field="payload.tests[2].in_spec",
        rule="qc_verdict_contradicts_results",
        message="is within specification (< 5 EU/mL)",
    )


def test_endotoxin_at_exactly_its_strict_limit_is_out_of_specification(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    at_limit = qc_test("endotoxin", "5 EU/mL", "< 5 EU/mL", False, 5.0, "EU/mL")
    ledger.record("QcResultsRecorded", PRODUCT_ID, with_test(at_limit), QC_QP, journey.at)
    assert ledger.product().state is ProductState.QC_OUT_OF_SPEC


def test_a_numeric_test_of_the_panel_needs_its_measured_value(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    unmeasured = qc_test("viability", "good", ">= 80 %", True)
    refuse_qc(
        ledger,
        journey,
        with_test(unmeasured),
        error=InvalidInput,
        field="payload.tests[0].value",
        rule="qc_value_required",
        message="viability is judged on its measured value",
    )


def test_a_value_in_another_unit_than_the_panel_is_refused(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    per_kg = qc_test("endotoxin", "0.2 EU/kg", "< 5 EU/mL", True, 0.2, "EU/kg")
    refuse_qc(
        ledger,
        journey,
        with_test(per_kg),
        error=InvalidInput,
        field="payload.tests[2].unit",
        rule="qc_unit_mismatch",
        message="must be 'EU/mL'",
    )


def test_one_test_twice_in_one_record_is_refused(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    payload = qc(True)
    payload["tests"].append(qc_test("Viability", "85 %", ">= 80 %", True, 85.0, "%"))
    refuse_qc(
        ledger,
        journey,
        payload,
        error=InvalidInput,
        field="payload.tests[7].name",
        rule="duplicate_qc_test",
        message="appears twice",
    )


def test_release_needs_a_result_for_every_test_of_the_panel(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    partial = {"tests": [t for t in qc(True)["tests"] if t["name"] not in ("potency", "vector copy number")]}
    ledger.record("QcResultsRecorded", PRODUCT_ID, partial, QC_QP, journey.at)
    assert ledger.product().state is ProductState.QC_IN_SPEC
    ledger.refuse(
        OutOfOrder,
        field=None,
        rule="qc_panel_incomplete",
        message="vector copy number, potency",
        event_type="ProductReleased",
        aggregate_id=PRODUCT_ID,
        payload={"certificate_id": "C"},
        actor=QP,
        at=journey.at,
    )
    rest = {"tests": [t for t in qc(True)["tests"] if t["name"] in ("potency", "vector copy number")]}
    ledger.record("QcResultsRecorded", PRODUCT_ID, rest, QC_QP, journey.at)
    ledger.record("ProductReleased", PRODUCT_ID, {"certificate_id": "C"}, QP, journey.at)
    assert ledger.product().released


def test_a_retest_in_specification_replaces_the_failed_result_of_that_test(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    ledger.record("QcResultsRecorded", PRODUCT_ID, qc(False), QC_QP, journey.at)
    assert ledger.product().state is ProductState.QC_OUT_OF_SPEC
    retest = {"tests": [qc_test("viability", "84 %", ">= 80 %", True, 84.0, "%")]}
    ledger.record("QcResultsRecorded", PRODUCT_ID, retest, QC_QP, journey.at)
    assert ledger.product().state is ProductState.QC_IN_SPEC


def test_a_test_the_panel_does_not_list_keeps_its_declared_verdict(ledger: FakeLedger) -> None:
    journey = manufactured(ledger)
    payload = qc(True)
    payload["tests"].append(qc_test("replication-competent lentivirus", "not detected", "not detected", True))
    ledger.record("QcResultsRecorded", PRODUCT_ID, payload, QC_QP, journey.at)
    assert ledger.product().qc_results["replication competent lentivirus"] is True


def _tests(*items: tuple[str, str, bool, float | None, str | None]) -> list[QcTest]:
    return [QcTest(name, result, "spec", ok, value, unit) for name, result, ok, value, unit in items]


def test_a_site_catalogue_tightens_a_criterion_and_adds_a_test_to_the_panel() -> None:
    catalogue = Catalogue.from_mapping(
        {"KYMRIAH": {"release_panel": {"viability": {"unit": "%", "minimum": 85}, "RCL": {"expected": "not detected"}}}}
    )
    panel = catalogue.get("KYMRIAH").release_panel
    with pytest.raises(RuleViolation) as caught:
        judge_results(panel, _tests(("viability", "82 %", True, 82.0, "%")))
    assert "≥ 85 %" in caught.value.message
    assert missing_tests(panel, ["viability"])[-1] == "RCL"
    assert Catalogue.default().get("KYMRIAH").release_panel != panel


def test_the_msc_panel_judges_identity_markers() -> None:
    panel = Catalogue.default().get("MSC-BANK").release_panel
    judge_results(panel, _tests(("CD73", "97 %", True, 97.0, "%"), ("CD45", "1.5 %", True, 1.5, "%")))
    with pytest.raises(RuleViolation):
        judge_results(panel, _tests(("CD45", "3 %", True, 3.0, "%")))


@pytest.mark.parametrize(
    ("criterion", "rule"),
    [
        ({"unit": "%"}, "catalogue_missing_key"),
        ({"minimum": 90, "maximum": 80}, "catalogue_out_of_range"),
        ({"expected": "negative", "maximum": 1}, "catalogue_conflict"),
        ({"minimum": "80"}, "catalogue_wrong_type"),
        ({"threshold": 80}, "catalogue_unknown_key"),
    ],
)
def test_a_bad_panel_criterion_in_the_catalogue_file_is_refused_by_its_path(criterion: object, rule: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Catalogue.from_mapping({"KYMRIAH": {"release_panel": {"viability": criterion}}})
    assert caught.value.rule == rule
    assert caught.value.field is not None and caught.value.field.startswith("catalogue.KYMRIAH.release_panel.viability")

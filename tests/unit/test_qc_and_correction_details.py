"""QC results against the release panel and correction chains, read from hand-built histories (no storage)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.catalogue import Catalogue
from domain.events import Actor, EventRecord
from domain.product import TherapyProduct
from projections.corrections import chains_of_records, value_changes
from projections.qc_details import qc_panel

PRODUCT = uuid.uuid4()
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
QC_QP = Actor("qc", "Quinn Qc", "qp")
QP = Actor("qp", "Quentin Qp", "qp")


def _test(name: str, result: str, in_spec: bool, value: float | None = None, unit: str | None = None) -> dict[str, Any]:
    test: dict[str, Any] = {"name": name, "result": result, "specification": "see panel", "in_spec": in_spec}
    if value is not None:
        test.update(value=value, unit=unit)
    return test


PANEL = [
    _test("viability", "92 %", True, 92, "%"),
    _test("sterility", "no growth", True),
    _test("endotoxin", "0.4 EU/mL", True, 0.4, "EU/mL"),
    _test("mycoplasma", "negative", True),
    _test("CAR expression", "38 %", True, 38, "%"),
    _test("vector copy number", "1.6 copies/cell", True, 1.6, "copies/cell"),
]
"""The default CAR-T panel without potency."""


def _history(*steps: tuple[str, dict[str, Any], Actor]) -> list[EventRecord]:
    """An enrolled, manufactured product (versions 1–3), then the given steps from version 4."""
    opening: list[tuple[str, dict[str, Any], Actor]] = [
        ("ProductEnrolled", {"coi": "FRA0001", "product_kind": "car_t", "product_code": "ACADEMIC-CD19",
                             "patient_pseudonym": "PSN-1", "indication": "sle", "treating_physician": "physician",
                             "collection_site": "CHU"}, QP),
        ("ManufacturingStarted", {"lot": "LOT-1"}, QP),
        ("ManufacturingCompleted", {"lot": "LOT-1", "bag_ids": ["B1"], "dose_description": "dose"}, QP),
    ]  # fmt: skip
    return [
        EventRecord(PRODUCT, version, kind, payload, AT + timedelta(hours=version), AT + timedelta(hours=version),
                    actor, "recorded")
        for version, (kind, payload, actor) in enumerate([*opening, *steps], start=1)
    ]  # fmt: skip


def _qc(records: list[EventRecord]) -> dict[str, Any]:
    qc = qc_panel(TherapyProduct.replay(PRODUCT, records), records, Catalogue.default())
    assert qc is not None
    return qc


def _named(qc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(test for test in qc["tests"] if test["name"] == name)


def _viability(value: float) -> list[dict[str, Any]]:
    return [_test("viability", f"{value:g} %", value >= 80, value, "%") if t["name"] == "viability" else t
            for t in PANEL]  # fmt: skip


def test_every_panel_test_is_listed_in_panel_order_with_its_criterion_and_potency_is_missing() -> None:
    qc = _qc(_history(("QcResultsRecorded", {"tests": PANEL}, QC_QP)))
    assert [(t["name"], t["criterion"], t["verdict"]) for t in qc["tests"]] == [
        ("viability", "≥ 80 %", "in_spec"),
        ("sterility", "no growth", "in_spec"),
        ("endotoxin", "< 5 EU/mL", "in_spec"),
        ("mycoplasma", "negative", "in_spec"),
        ("CAR expression", "≥ 15 %", "in_spec"),
        ("vector copy number", "≤ 5 copies/cell", "in_spec"),
        ("potency", "conforms", "missing"),
    ]
    assert (qc["complete"], qc["missing"], qc["out_of_specification"], qc["lot"]) == (False, ["potency"], [], "LOT-1")


def test_the_verdict_is_computed_from_the_measured_value_not_taken_from_the_declared_one() -> None:
    declared_in_spec = [dict(t, in_spec=True, value=61, result="61 %") if t["name"] == "viability" else t
                        for t in PANEL]  # fmt: skip
    fix = {"corrects_version": 4, "reason": "typed the wrong figure", "corrections": {"tests": declared_in_spec}}
    records = _history(("QcResultsRecorded", {"tests": PANEL}, QC_QP), ("EventCorrected", fix, QC_QP))
    viability = _named(_qc(records), "viability")
    assert (viability["verdict"], viability["verdict_basis"], viability["declared_in_spec"]) == (
        "out_of_spec", "computed", True,
    )  # fmt: skip


def test_a_correction_shows_the_value_first_signed_beside_the_one_in_force_and_a_second_extends_the_chain() -> None:
    first = {"corrects_version": 4, "reason": "misread", "corrections": {"tests": _viability(61)}}
    second = {"corrects_version": 5, "reason": "recount", "corrections": {"tests": _viability(64)}}
    records = _history(("QcResultsRecorded", {"tests": PANEL}, QC_QP), ("EventCorrected", first, QC_QP),
                       ("EventCorrected", second, QP))  # fmt: skip
    viability = _named(_qc(records), "viability")
    assert (viability["value"], viability["verdict"], viability["recorded_version"], viability["corrected_by"]) == (
        64, "out_of_spec", 4, [5, 6],
    )  # fmt: skip
    assert viability["original"] == {"value": 92, "unit": "%", "result": "92 %", "verdict": "in_spec",
                                     "verdict_basis": "computed", "declared_in_spec": True}  # fmt: skip
    [chain] = chains_of_records(records)
    assert (chain["version"], chain["event_type"], chain["actor_name"]) == (4, "QcResultsRecorded", "Quinn Qc")
    assert [(c["version"], c["corrects_version"], c["actor_name"], c["reason"]) for c in chain["corrections"]] == [
        (5, 4, "Quinn Qc", "misread"),
        (6, 5, "Quentin Qp", "recount"),
    ]
    assert chain["original"] == {"tests": PANEL}, "the original as first signed, not as corrected"
    assert chain["in_force"] == {"tests": _viability(64)}
    assert chain["changes"] == [
        {"path": "tests[viability].in_spec", "original": True, "in_force": False},
        {"path": "tests[viability].result", "original": "92 %", "in_force": "64 %"},
        {"path": "tests[viability].value", "original": 92, "in_force": 64},
    ]


def test_a_new_lot_voids_the_last_lots_qc_and_an_uncorrected_history_has_no_chain() -> None:
    records = _history(
        ("QcResultsRecorded", {"tests": PANEL}, QC_QP),
        ("ManufacturingFailed", {"reason": "contaminated"}, QP),
        ("ManufacturingStarted", {"lot": "LOT-2"}, QP),
    )
    qc = _qc(records)
    assert qc["lot"] == "LOT-2" and {t["verdict"] for t in qc["tests"]} == {"missing"}
    assert chains_of_records(records) == []


def test_a_test_outside_the_panel_is_shown_as_declared() -> None:
    extra = _test("replication-competent lentivirus", "not detected", True)
    viability = _named(_qc(_history(("QcResultsRecorded", {"tests": [*PANEL, extra]}, QC_QP))), "viability")
    assert viability["in_panel"] is True
    shown = _named(_qc(_history(("QcResultsRecorded", {"tests": [*PANEL, extra]}, QC_QP))),
                   "replication-competent lentivirus")  # fmt: skip
    assert (shown["in_panel"], shown["criterion"], shown["verdict"], shown["verdict_basis"]) == (
        False, "see panel", "in_spec", "declared",
    )  # fmt: skip


def test_before_manufacture_there_is_no_panel_to_show() -> None:
    enrolled = _history()[:1]
    assert qc_panel(TherapyProduct.replay(PRODUCT, enrolled), enrolled, Catalogue.default()) is None


def test_changes_compare_tables_key_by_key_and_named_lists_name_by_name() -> None:
    assert value_changes("volume", {"ml": 10, "unit": "mL"}, {"ml": 12, "unit": "mL"}) == [
        {"path": "volume.ml", "original": 10, "in_force": 12}
    ]
    assert value_changes("reason", "typo", "fixed") == [{"path": "reason", "original": "typo", "in_force": "fixed"}]
    assert value_changes("tests", [{"name": "a", "v": 1}], [{"name": "a", "v": 1}, {"name": "b", "v": 2}]) == [
        {"path": "tests[b]", "original": None, "in_force": {"name": "b", "v": 2}}
    ]

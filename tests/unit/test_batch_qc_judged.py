"""An MSC bank batch's QC is judged as a product's is, against the MSC release panel (or the site's, from the
catalogue in force): measured values, the computed verdict, and the whole panel before release."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from domain_fixtures import DIN, QP, T0, FakeLedger, batch_registration, make_ctx, msc_qc, qc_test

from domain.catalogue import Catalogue
from domain.errors import InvalidInput, OutOfOrder, RuleViolation
from domain.events import Meaning
from domain.registry import decide
from tests.unit.pathway_fixtures import ready_ledger

RELEASE = {"certificate_id": "CoR-MSC-9"}
AT = T0 + timedelta(hours=1)


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def registered(ledger: FakeLedger) -> UUID:
    batch_id = uuid4()
    ledger.record("BatchRegistered", batch_id, batch_registration(), QP, T0)
    return batch_id


def panel_with(*names: str, **replacing: dict[str, Any]) -> dict[str, Any]:
    """The measured MSC panel restricted to ``names`` (all when none), with some tests replaced."""
    chosen = [t for t in msc_qc()["tests"] if not names or t["name"] in names]
    return {"tests": [replacing.get(t["name"], t) for t in chosen]}


def refuse_qc(ledger: FakeLedger, batch_id: UUID, payload: dict[str, Any], error: type, field: str | None,
              rule: str, message: str) -> None:  # fmt: skip
    ledger.refuse(error, field=field, rule=rule, message=message, event_type="BatchQcRecorded",
                  aggregate_id=batch_id, payload=payload, actor=QP, at=AT)  # fmt: skip


def test_a_declared_verdict_the_measured_value_contradicts_is_refused(ledger: FakeLedger) -> None:
    batch_id = registered(ledger)
    low = qc_test("viability", "64 %", ">= 70 %", True, 64.0, "%")
    refuse_qc(ledger, batch_id, panel_with(viability=low), RuleViolation, "payload.tests[0].in_spec",
              "qc_verdict_contradicts_results", "viability measured 64 % is out of specification (≥ 70 %)")  # fmt: skip
    high_cd45 = qc_test("CD45", "3 %", "<= 2 %", True, 3.0, "%")
    refuse_qc(ledger, batch_id, panel_with(CD45=high_cd45), RuleViolation, "payload.tests[7].in_spec",
              "qc_verdict_contradicts_results", "CD45 measured 3 % is out of specification (≤ 2 %)")  # fmt: skip


def test_the_msc_panel_judges_not_the_car_t_one(ledger: FakeLedger) -> None:
    """75 % viable passes the MSC panel (≥ 70 %) where a CAR-T lot would fail (≥ 80 %)."""
    batch_id = registered(ledger)
    ledger.record("BatchQcRecorded", batch_id, panel_with(viability=qc_test("viability", "75 %", ">= 70 %", True,
                  75.0, "%")), QP, AT)  # fmt: skip
    assert ledger.batch(batch_id).qc_in_spec is True


def test_a_panel_test_needs_its_measured_value_in_the_panels_unit(ledger: FakeLedger) -> None:
    batch_id = registered(ledger)
    unmeasured = qc_test("CD73", "conforms", ">= 95 %", True)
    refuse_qc(ledger, batch_id, panel_with(CD73=unmeasured), InvalidInput, "payload.tests[4].value",
              "qc_value_required", "CD73 is judged on its measured value")  # fmt: skip
    wrong_unit = qc_test("CD90", "98 cells", ">= 95 %", True, 98.0, "cells")
    refuse_qc(ledger, batch_id, panel_with(CD90=wrong_unit), InvalidInput, "payload.tests[5].unit",
              "qc_unit_mismatch", "must be '%' for CD90")  # fmt: skip


def test_release_needs_a_result_for_every_test_of_the_msc_panel(ledger: FakeLedger) -> None:
    batch_id = registered(ledger)
    ledger.record("BatchQcRecorded", batch_id, panel_with("viability", "sterility", "endotoxin", "mycoplasma",
                  "CD73", "CD90"), QP, AT)  # fmt: skip
    assert ledger.batch(batch_id).qc_in_spec is True
    ledger.refuse(OutOfOrder, field=None, rule="qc_panel_incomplete", message="MSC-BANK has no result yet for CD105, "
                  "CD45; record them with BatchQcRecorded", event_type="BatchReleased", aggregate_id=batch_id,
                  payload=RELEASE, actor=QP, at=AT)  # fmt: skip
    ledger.record("BatchQcRecorded", batch_id, panel_with("CD105", "CD45"), QP, AT)
    ledger.record("BatchReleased", batch_id, RELEASE, QP, AT)
    assert ledger.batch(batch_id).released


def test_a_retest_in_specification_replaces_the_failed_result_of_that_test(ledger: FakeLedger) -> None:
    batch_id = registered(ledger)
    ledger.record("BatchQcRecorded", batch_id, msc_qc(False), QP, AT)
    ledger.refuse(OutOfOrder, field=None, rule="release_requires_in_spec_qc", message="QC out of specification",
                  event_type="BatchReleased", aggregate_id=batch_id, payload=RELEASE, actor=QP, at=AT)  # fmt: skip
    retest = {"tests": [qc_test("viability", "81 %", ">= 70 %", True, 81.0, "%")]}
    ledger.record("BatchQcRecorded", batch_id, retest, QP, AT)
    ledger.record("BatchReleased", batch_id, RELEASE, QP, AT)
    assert ledger.batch(batch_id).released


def test_the_site_catalogues_panel_for_the_batch_product_judges_it(ledger: FakeLedger) -> None:
    """A site tightens CD45 and adds a potency assay for its MSC product: both bind the batch."""
    site_panel = {"CD45": {"unit": "%", "maximum": 1.0}, "potency": {"expected": "conforms"}}
    catalogue = Catalogue.from_mapping({"MSC-BANK": {"release_panel": site_panel}})
    batch_id = registered(ledger)

    def record(event_type: str, payload: dict[str, Any], meaning: Meaning) -> None:
        ctx = replace(make_ctx(QP, AT, meaning), catalogue=catalogue)
        ledger.store(decide(event_type, batch_id, payload, ctx, ledger.load), QP)

    cd45 = panel_with(CD45=qc_test("CD45", "1.5 %", "<= 1 %", True, 1.5, "%"))
    with pytest.raises(RuleViolation) as caught:
        record("BatchQcRecorded", cd45, Meaning.REVIEWED)
    assert (caught.value.rule, caught.value.field) == ("qc_verdict_contradicts_results", "payload.tests[7].in_spec")
    assert "(≤ 1 %)" in caught.value.message and ledger.types(batch_id) == ["BatchRegistered"]
    record("BatchQcRecorded", msc_qc(), Meaning.REVIEWED)
    with pytest.raises(OutOfOrder) as missing:
        record("BatchReleased", RELEASE, Meaning.RELEASED)
    assert missing.value.rule == "qc_panel_incomplete" and "no result yet for potency;" in missing.value.message
    record("BatchQcRecorded", {"tests": [qc_test("potency", "conforms", "conforms", True)]}, Meaning.REVIEWED)
    record("BatchReleased", RELEASE, Meaning.RELEASED)
    assert ledger.batch(batch_id).released
    other = uuid4()
    ledger.record("BatchRegistered", other, {**batch_registration(), "donor_din": DIN}, QP, T0)
    ledger.record("BatchQcRecorded", other, cd45, QP, AT)  # the labels' default panel allows CD45 up to 2 %


def test_a_later_result_for_another_test_does_not_hide_a_failed_one(ledger: FakeLedger) -> None:
    batch_id = registered(ledger)
    ledger.record("BatchQcRecorded", batch_id, msc_qc(False), QP, AT)
    ledger.record("BatchQcRecorded", batch_id, panel_with("sterility"), QP, AT)
    assert ledger.batch(batch_id).qc_in_spec is False
    ledger.refuse(OutOfOrder, field=None, rule="release_requires_in_spec_qc", message="QC out of specification",
                  event_type="BatchReleased", aggregate_id=batch_id, payload=RELEASE, actor=QP, at=AT)  # fmt: skip

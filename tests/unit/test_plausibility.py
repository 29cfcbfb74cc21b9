"""Physically implausible quantities are refused at entry, naming the field, the value, the unit and the range."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain.catalogue import Catalogue
from domain.errors import InvalidInput
from domain.registry import EVENT_TYPES, decide
from tests.unit.domain_fixtures import DIN, NURSE, PRODUCT_ID, T0, CarTJourney, FakeLedger, iso, make_ctx
from tests.unit.pathway_fixtures import ready_ledger

COLLECTED_AT = T0 + timedelta(days=1)


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def apheresis(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "din": DIN,
        "site": "CHU Lyon apheresis unit",
        "volume_ml": 250,
        "preservation": "fresh",
        "started_at": iso(COLLECTED_AT - timedelta(hours=4)),
        "ended_at": iso(COLLECTED_AT - timedelta(hours=1)),
        "tnc_count": 1.2e10,
        "cd3_count": 4.1e9,
    }
    payload.update(changes)
    return payload


def refuse_collection(ledger: FakeLedger, payload: dict[str, Any], field: str, message: str) -> None:
    ledger.refuse(
        InvalidInput, field=field, rule="implausible_value", message=message, event_type="ApheresisCollected",
        aggregate_id=PRODUCT_ID, payload=payload, actor=NURSE, at=COLLECTED_AT,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"volume_ml": 2500}, "payload.volume_ml", "payload.volume_ml 2500 mL is not plausible for an apheresis "
         "collection's volume: KYMRIAH expects 10 to 1000 mL"),
        ({"volume_ml": 2.5}, "payload.volume_ml", "payload.volume_ml 2.5 mL is not plausible"),
        ({"tnc_count": 1.2e13}, "payload.tnc_count", "payload.tnc_count 1.2e+13 cells is not plausible for an "
         "apheresis collection's total nucleated cells: KYMRIAH expects 1e+08 to 1e+12 cells"),
        ({"tnc_count": 1.2e7, "cd3_count": None}, "payload.tnc_count", "1.2e+07 cells is not plausible"),
        ({"cd3_count": 4.1e6}, "payload.cd3_count", "payload.cd3_count 4.1e+06 cells is not plausible for an "
         "apheresis collection's CD3+ T cells: KYMRIAH expects 1e+07 to 1e+12 cells"),
    ],
)  # fmt: skip
def test_an_implausible_collection_figure_is_refused(
    ledger: FakeLedger, changes: dict[str, Any], field: str, message: str
) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    refuse_collection(ledger, apheresis(**changes), field, message)


def test_the_refusal_says_why_the_range_is_what_it_is(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    refuse_collection(ledger, apheresis(volume_ml=5000), "payload.volume_ml", "over 1 L no bag holds it")


def test_more_cd3_cells_than_nucleated_cells_is_refused(ledger: FakeLedger) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    refuse_collection(
        ledger, apheresis(tnc_count=2e9, cd3_count=4e9), "payload.cd3_count",
        "payload.cd3_count 4e+09 cells is more than payload.tnc_count 2e+09 cells",
    )  # fmt: skip


@pytest.mark.parametrize(("volume", "tnc", "cd3"), [(10, 1e8, 1e7), (1000, 1e12, 1e12), (245, None, None)])
def test_figures_at_the_edges_of_the_range_or_left_out_are_recorded(
    ledger: FakeLedger, volume: float, tnc: float | None, cd3: float | None
) -> None:
    CarTJourney(ledger).until("ProductEnrolled")
    ledger.record("ApheresisCollected", PRODUCT_ID, apheresis(volume_ml=volume, tnc_count=tnc, cd3_count=cd3), NURSE,
                  COLLECTED_AT)  # fmt: skip
    assert ledger.types(PRODUCT_ID)[-1] == "ApheresisCollected"
    assert ledger.histories[PRODUCT_ID][-1].payload["volume_ml"] == volume


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"volume_ml": 680}, "payload.volume_ml", "payload.volume_ml 680 mL is not plausible for an infused dose's "
         "volume: KYMRIAH expects 1 to 500 mL"),
        ({"viable_cells": 2e11}, "payload.viable_cells", "payload.viable_cells 2e+11 cells is not plausible for an "
         "infused dose's viable cells: KYMRIAH expects 1e+05 to 1e+10 cells"),
        ({"viable_cells": 2e4}, "payload.viable_cells", "2e+04 cells is not plausible"),
    ],
)  # fmt: skip
def test_an_implausible_infusion_figure_is_refused(
    ledger: FakeLedger, changes: dict[str, Any], field: str, message: str
) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.refuse(
        InvalidInput, field=field, rule="implausible_value", message=message, event_type="Infused",
        aggregate_id=PRODUCT_ID, payload={**journey.infusion(timedelta(minutes=10)), **changes}, actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )  # fmt: skip


def test_a_plausible_dose_is_recorded_with_the_infusion(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    payload = {**journey.infusion(timedelta(minutes=10)), "viable_cells": 2e8}
    ledger.record("Infused", PRODUCT_ID, payload, NURSE, journey.at + timedelta(minutes=30))
    infusion = ledger.product().infusion
    assert infusion is not None and infusion["viable_cells"] == 2e8


def test_a_product_s_catalogue_entry_overrides_its_range(ledger: FakeLedger) -> None:
    """A site whose apheresis bags hold at most 400 mL narrows the range; the refusal quotes the site's figures."""
    CarTJourney(ledger).until("ProductEnrolled")
    catalogue = Catalogue.from_mapping({"KYMRIAH": {"apheresis_volume_ml": [20, 400]}})
    spec = EVENT_TYPES["ApheresisCollected"]
    ctx = replace(make_ctx(NURSE, COLLECTED_AT, spec.default_meaning), catalogue=catalogue)
    with pytest.raises(InvalidInput) as caught:
        decide("ApheresisCollected", PRODUCT_ID, apheresis(volume_ml=450), ctx, ledger.load)
    assert caught.value.rule == "implausible_value" and "KYMRIAH expects 20 to 400 mL" in caught.value.message
    events = decide("ApheresisCollected", PRODUCT_ID, apheresis(volume_ml=350), ctx, ledger.load)
    assert [event.type for event in events] == ["ApheresisCollected", "DinAssigned"]

"""A label that counts the thaw-to-infusion window from the START of thaw (Abecma) is followed as written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_fixtures import NURSE, PRODUCT_ID, CarTJourney, FakeLedger

from domain.catalogue import Catalogue
from domain.errors import InvalidInput, TimeRuleViolation
from tests.unit.pathway_fixtures import ready_ledger


@pytest.fixture
def ledger() -> FakeLedger:
    return ready_ledger()


def test_the_abecma_window_runs_from_the_start_of_thaw() -> None:
    assert Catalogue.default().get("ABECMA").thaw_window_from == "start"
    assert Catalogue.default().get("KYMRIAH").thaw_window_from == "completion"


def test_an_infusion_inside_the_window_from_completion_but_past_it_from_the_start_is_refused(
    ledger: FakeLedger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_start = Catalogue.from_mapping({"KYMRIAH": {"thaw_window_from": "start"}})
    monkeypatch.setattr(Catalogue, "default", classmethod(lambda cls: from_start))
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    # The fixture thaws for 18 minutes: 20 min after completion is 38 min after the start (window: 30 min).
    ledger.refuse(
        TimeRuleViolation,
        field="payload.started_at",
        rule="thaw_to_infusion_window_exceeded",
        message="30 min after the start of thaw for KYMRIAH",
        event_type="Infused",
        aggregate_id=PRODUCT_ID,
        payload=journey.infusion(timedelta(minutes=20)),
        actor=NURSE,
        at=journey.at + timedelta(hours=1),
    )


def test_the_same_infusion_counted_from_completion_goes_ahead(ledger: FakeLedger) -> None:
    journey = CarTJourney(ledger).until("BedsideCheckWitnessed")
    ledger.record(
        "Infused", PRODUCT_ID, journey.infusion(timedelta(minutes=20)), NURSE, journey.at + timedelta(hours=1)
    )
    assert ledger.product().state == "infused"


def test_a_thaw_origin_other_than_start_or_completion_is_refused_by_its_path() -> None:
    with pytest.raises(InvalidInput) as caught:
        Catalogue.from_mapping({"ABECMA": {"thaw_window_from": "midway"}})
    assert (caught.value.field, caught.value.rule) == ("catalogue.ABECMA.thaw_window_from", "catalogue_wrong_type")

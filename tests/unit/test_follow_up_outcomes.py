"""What the registries need at each visit, recorded with it: the disease's response, survival, a cause of death.

The fields are optional when recording (a visit is never lost for want of them; the
registry exports ask for them, docs/registries.md), but what is given must make sense:
a cause of death only with a death, and only the named responses and statuses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import InvalidInput
from domain.pathway_events import ConsentSigned
from domain.payloads import parse_payload
from tests.unit.domain_fixtures import PHYSICIAN, PRODUCT_ID, CarTJourney, FakeLedger
from tests.unit.pathway_fixtures import ready_ledger


def infused() -> tuple[FakeLedger, CarTJourney]:
    ledger = ready_ledger()
    return ledger, CarTJourney(ledger).until("Infused")


def test_a_visit_records_its_response_and_survival() -> None:
    ledger, journey = infused()
    payload = {"visit": "day 7", "findings": "well", "disease_response": "partial_response", "survival": "alive"}
    ledger.record("FollowUpRecorded", PRODUCT_ID, payload, PHYSICIAN, journey.at + timedelta(days=7))
    [visit] = [r for r in ledger.histories[PRODUCT_ID] if r.type == "FollowUpRecorded"]
    assert (visit.payload["disease_response"], visit.payload["survival"]) == ("partial_response", "alive")


@pytest.mark.parametrize("survival", [None, "alive"])
def test_a_cause_of_death_without_a_death_is_refused_and_nothing_stored(survival: str | None) -> None:
    ledger, journey = infused()
    payload = {"visit": "day 7", "findings": "x", "cause_of_death": "sepsis",
               **({"survival": survival} if survival else {})}  # fmt: skip
    ledger.refuse(
        InvalidInput, field="payload.cause_of_death", rule="cause_of_death_without_death",
        message=f"the visit's survival is {survival or 'absent'}", event_type="FollowUpRecorded",
        aggregate_id=PRODUCT_ID, payload=payload, actor=PHYSICIAN, at=journey.at + timedelta(days=7),
    )  # fmt: skip


def test_a_death_with_its_cause_is_recorded() -> None:
    ledger, journey = infused()
    payload = {"visit": "unscheduled", "findings": "died on the unit", "survival": "dead", "cause_of_death": "sepsis"}
    ledger.record("FollowUpRecorded", PRODUCT_ID, payload, PHYSICIAN, journey.at + timedelta(days=3))
    assert ledger.histories[PRODUCT_ID][-1].payload["cause_of_death"] == "sepsis"


def test_an_unknown_response_and_an_unknown_registry_are_refused_naming_the_field() -> None:
    ledger, journey = infused()
    with pytest.raises(InvalidInput) as caught:
        ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "day 7", "findings": "x", "disease_response": "cured"},
                      PHYSICIAN, journey.at + timedelta(days=7))  # fmt: skip
    assert caught.value.field == "payload.disease_response"
    consent = {"form_version": "v3", "signed_on": "2026-01-18", "document_ref": "C-1", "registry_transmission": ["x"]}
    with pytest.raises(InvalidInput) as refused:
        parse_payload(ConsentSigned, consent)
    assert refused.value.field == "payload.registry_transmission[0]"


def test_a_correction_cannot_give_a_living_patient_a_cause_of_death_but_can_record_the_death() -> None:
    ledger, journey = infused()
    at = journey.at + timedelta(days=7)
    ledger.record(
        "FollowUpRecorded", PRODUCT_ID, {"visit": "day 7", "findings": "x", "survival": "alive"}, PHYSICIAN, at
    )
    version = len(ledger.histories[PRODUCT_ID])
    ledger.refuse(
        InvalidInput, field="payload.corrections.cause_of_death", rule="cause_of_death_without_death",
        message="the visit's survival is alive", event_type="EventCorrected", aggregate_id=PRODUCT_ID,
        payload={"corrects_version": version, "reason": "typed on the wrong visit",
                 "corrections": {"cause_of_death": "sepsis"}},
        actor=PHYSICIAN, at=at,
    )  # fmt: skip
    ledger.record(
        "EventCorrected", PRODUCT_ID, {"corrects_version": version, "reason": "died the same evening",
                                       "corrections": {"survival": "dead", "cause_of_death": "sepsis"}}, PHYSICIAN, at,
    )  # fmt: skip
    assert ledger.product().effective_payload(version)["cause_of_death"] == "sepsis"

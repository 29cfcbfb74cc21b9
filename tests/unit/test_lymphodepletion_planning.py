"""Planning conditioning: only once the product's release is confirmed, unless its site signed the allowance.

The lupus patient's CAR-T product (tests/unit/domain_fixtures.py) is walked to QC, then
released; the allowance is signed on its collection site, "CHU Lyon apheresis unit".
"""

from __future__ import annotations

from datetime import timedelta

from domain.errors import CustodyError, InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.identifiers import allocate_coi
from domain.site import site_id_for
from tests.unit.domain_fixtures import ADMIN, COI, COLLECTION_SITE, PHYSICIAN, CarTJourney, FakeLedger
from tests.unit.pathway_fixtures import PATHWAY_ID, ready_ledger

SITE = site_id_for(COLLECTION_SITE)


def journey(until: str) -> tuple[FakeLedger, CarTJourney]:
    ledger = ready_ledger()
    return ledger, CarTJourney(ledger).until(until)


def plan(ledger: FakeLedger, walked: CarTJourney, **payload: object) -> None:
    body = {"coi": COI, "starts_on": (walked.at + timedelta(days=2)).date().isoformat(), **payload}
    ledger.record("LymphodepletionPlanned", PATHWAY_ID, body, PHYSICIAN, walked.at + timedelta(hours=1))


def refusal(ledger: FakeLedger, walked: CarTJourney, error: type[CustodyError], field: str | None, rule: str,
            message: str, **payload: object) -> None:  # fmt: skip
    body = {"coi": COI, "starts_on": (walked.at + timedelta(days=2)).date().isoformat(), **payload}
    ledger.refuse(error, field=field, rule=rule, message=message, event_type="LymphodepletionPlanned",
                  aggregate_id=PATHWAY_ID, payload=body, actor=PHYSICIAN,
                  at=walked.at + timedelta(hours=1))  # fmt: skip


def test_before_release_the_plan_is_refused_and_after_release_it_is_recorded() -> None:
    ledger, walked = journey("QcResultsRecorded")
    refusal(ledger, walked, OutOfOrder, None, "release_not_confirmed", "is not released yet")
    walked.until("ProductReleased")
    plan(ledger, walked)
    assert ledger.histories[PATHWAY_ID][-1].payload == {
        "coi": COI, "starts_on": (walked.at + timedelta(days=2)).date().isoformat()
    }  # fmt: skip


def test_the_sites_allowance_lets_it_be_planned_early_and_the_plan_says_so_until_revoked() -> None:
    ledger, walked = journey("QcResultsRecorded")
    at = walked.at + timedelta(minutes=10)
    ledger.record("EarlyLymphodepletionAllowed", SITE, {"reason": "release within 48 h; risk accepted"}, ADMIN, at)
    plan(ledger, walked)
    assert ledger.histories[PATHWAY_ID][-1].payload["before_release"] is True
    ledger.record("EarlyLymphodepletionRevoked", SITE, {"reason": "after release only"}, ADMIN,
                  walked.at + timedelta(hours=2))  # fmt: skip
    walked.at += timedelta(hours=2)
    refusal(ledger, walked, OutOfOrder, None, "release_not_confirmed", "EarlyLymphodepletionAllowed")


def test_another_patients_product_a_past_day_and_a_ledger_field_are_refused_by_name() -> None:
    ledger, walked = journey("ProductReleased")
    other = allocate_coi("A9999", 26, "00009Z").value
    refusal(ledger, walked, RuleViolation, "payload.coi", "not_this_patients_product", "is not a product of",
            coi=other)  # fmt: skip
    refusal(ledger, walked, TimeRuleViolation, "payload.starts_on", "planned_in_the_past", "before the plan is made",
            starts_on=(walked.at - timedelta(days=1)).date().isoformat())  # fmt: skip
    refusal(ledger, walked, InvalidInput, "payload.before_release", "set_by_ledger", "set by the ledger",
            before_release=True)  # fmt: skip

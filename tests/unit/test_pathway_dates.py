"""Dates written in pathway payloads: a conditioning course runs forward, and nothing is dated after its step.

Each refusal names the field and its rule and stores nothing; the boundary cases (a
one-day course, a withdrawal dated the day it is recorded) are accepted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.errors import OutOfOrder, TimeRuleViolation
from tests.unit.domain_fixtures import NURSE, FakeLedger
from tests.unit.pathway_fixtures import MEETING, PATHWAY_ID, walk_pathway

CONSENTED = MEETING + timedelta(days=3)
"""When the test patient's consent is signed: every step below comes later."""


def course(started: datetime, ended: datetime) -> dict[str, Any]:
    """A fludarabine/cyclophosphamide course from one day to another."""
    return {
        "agents": [{"name": "fludarabine", "dose": "30 mg/m2"}, {"name": "cyclophosphamide", "dose": "500 mg/m2"}],
        "started_on": started.date().isoformat(),
        "ended_on": ended.date().isoformat(),
    }


def consented() -> FakeLedger:
    ledger = FakeLedger()
    walk_pathway(ledger)
    return ledger


def test_a_course_that_ends_before_it_starts_is_refused_naming_its_end() -> None:
    ledger = consented()
    at = CONSENTED + timedelta(days=5)
    ledger.refuse(
        TimeRuleViolation, field="payload.ended_on", rule="ends_before_start", message="is before payload.started_on",
        event_type="LymphodepletionRecorded", aggregate_id=PATHWAY_ID,
        payload=course(at - timedelta(days=1), at - timedelta(days=2)), actor=NURSE, at=at,
    )  # fmt: skip


def test_a_one_day_course_is_accepted() -> None:
    ledger = consented()
    at = CONSENTED + timedelta(days=5)
    [event] = ledger.record("LymphodepletionRecorded", PATHWAY_ID, course(at, at), NURSE, at)
    assert event.payload["started_on"] == event.payload["ended_on"] == at.date().isoformat()


def test_a_course_ending_after_the_step_is_recorded_as_happening_is_refused() -> None:
    ledger = consented()
    at = CONSENTED + timedelta(days=5)
    ledger.refuse(
        TimeRuleViolation, field="payload.ended_on", rule="after_occurred_at", message="payload.ended_on",
        event_type="LymphodepletionRecorded", aggregate_id=PATHWAY_ID,
        payload=course(at - timedelta(days=1), at + timedelta(days=1)), actor=NURSE, at=at,
    )  # fmt: skip


def test_a_withdrawal_dated_after_its_step_is_refused_naming_the_withdrawal_date() -> None:
    ledger = consented()
    at = CONSENTED + timedelta(days=1)
    ledger.refuse(
        TimeRuleViolation, field="payload.withdrawn_on", rule="after_occurred_at", message="payload.withdrawn_on",
        event_type="ConsentWithdrawn", aggregate_id=PATHWAY_ID,
        payload={"withdrawn_on": (at + timedelta(days=1)).date().isoformat()}, actor=NURSE, at=at,
    )  # fmt: skip
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": at.date().isoformat()}, NURSE, at)


def test_after_a_withdrawal_neither_a_second_withdrawal_nor_conditioning_is_recorded() -> None:
    ledger = consented()
    at = CONSENTED + timedelta(days=1)
    ledger.record("ConsentWithdrawn", PATHWAY_ID, {"withdrawn_on": at.date().isoformat()}, NURSE, at)
    later = at + timedelta(days=1)
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_withdrawn", message="cannot record ConsentWithdrawn",
        event_type="ConsentWithdrawn", aggregate_id=PATHWAY_ID,
        payload={"withdrawn_on": later.date().isoformat()}, actor=NURSE, at=later,
    )  # fmt: skip
    ledger.refuse(
        OutOfOrder, field=None, rule="consent_withdrawn", message="cannot record LymphodepletionRecorded",
        event_type="LymphodepletionRecorded", aggregate_id=PATHWAY_ID, payload=course(later, later),
        actor=NURSE, at=later,
    )  # fmt: skip

"""Follow-up: the schedule an infusion generates, visits against it, and CRS/ICANS on the ASTCT scales."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.errors import InvalidInput, OutOfOrder, RuleViolation, TimeRuleViolation
from domain.follow_up import schedule_for, visit_name
from domain.pathway_policy import PathwayPolicy, add_months, parse_visits
from tests.unit.domain_fixtures import (
    NURSE,
    PHYSICIAN,
    PRODUCT_ID,
    SITES,
    CarTJourney,
    FakeLedger,
)
from tests.unit.pathway_fixtures import INFUSION_UNIT, ready_ledger, register_site, walk_pathway


def infused() -> tuple[FakeLedger, CarTJourney]:
    ledger = ready_ledger()
    journey = CarTJourney(ledger).until("Infused")
    return ledger, journey


def test_a_car_t_infusion_schedules_day_7_14_28_months_3_6_12_then_every_year_to_15() -> None:
    ledger, _ = infused()
    [scheduled] = [r for r in ledger.histories[PRODUCT_ID] if r.type == "FollowUpScheduled"]
    visits = [v["visit"] for v in scheduled.payload["visits"]]
    assert visits[:6] == ["day 7", "day 14", "day 28", "month 3", "month 6", "month 12"]
    assert visits[6:] == [f"year {n}" for n in range(2, 16)]
    infused_on = date.fromisoformat(scheduled.payload["infused_on"])
    first = scheduled.payload["visits"][0]
    assert (first["due_on"], first["latest_on"]) == (
        (infused_on + timedelta(days=7)).isoformat(),
        (infused_on + timedelta(days=10)).isoformat(),
    )
    assert scheduled.payload["visits"][-1]["due_on"] == infused_on.replace(year=infused_on.year + 15).isoformat()


def test_an_msc_dose_gets_the_configured_msc_schedule_day_7_28_months_3_6_12_by_default() -> None:
    assert [v.visit for v in schedule_for("msc", date(2026, 1, 31), PathwayPolicy()).visits] == [
        "day 7", "day 28", "month 3", "month 6", "month 12",
    ]  # fmt: skip
    custom = PathwayPolicy(msc_visits=parse_visits("day 14, month 1", field="msc"))
    assert [(v.visit, v.due_on) for v in schedule_for("msc", date(2026, 1, 31), custom).visits] == [
        ("day 14", "2026-02-14"), ("month 1", "2026-02-28"),
    ]  # fmt: skip


def test_a_schedule_that_is_malformed_or_out_of_order_is_refused_naming_the_setting() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_visits("day 7, week 2", field="CUSTODY_MSC_FOLLOW_UP")
    assert caught.value.field == "CUSTODY_MSC_FOLLOW_UP" and "'week 2'" in caught.value.message
    with pytest.raises(InvalidInput):
        parse_visits("month 3, day 28", field="CUSTODY_MSC_FOLLOW_UP")


def test_a_month_later_than_the_31st_of_january_is_the_last_day_of_february() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 12, 15), 3) == date(2028, 3, 15)


def test_the_clinic_shorthand_names_the_same_visit() -> None:
    assert visit_name("D+28") == visit_name("d28") == visit_name("Day  28") == "day 28"
    assert visit_name("M3") == "month 3" and visit_name("Y+2") == "year 2"


def test_a_visit_the_schedule_does_not_list_is_refused() -> None:
    ledger, journey = infused()
    ledger.refuse(
        InvalidInput, field="payload.visit", rule="unknown_visit", message="not a scheduled visit",
        event_type="FollowUpRecorded", aggregate_id=PRODUCT_ID, payload={"visit": "day 9", "findings": "well"},
        actor=PHYSICIAN, at=journey.at + timedelta(days=9),
    )  # fmt: skip


def test_a_scheduled_visit_is_recorded_once_and_unscheduled_visits_any_number_of_times() -> None:
    ledger, journey = infused()
    at = journey.at + timedelta(days=7)
    ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "D+7", "findings": "well"}, PHYSICIAN, at)
    assert ledger.product().follow_up_done == {"day 7"}
    ledger.refuse(
        OutOfOrder, field=None, rule="visit_already_recorded", message="day 7 visit is already recorded",
        event_type="FollowUpRecorded", aggregate_id=PRODUCT_ID, payload={"visit": "day 7", "findings": "again"},
        actor=PHYSICIAN, at=at,
    )  # fmt: skip
    for _ in range(2):
        ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "unscheduled", "findings": "fever"}, PHYSICIAN, at)


@pytest.mark.parametrize("category", ["crs", "icans"])
def test_crs_and_icans_above_astct_grade_4_are_refused(category: str) -> None:
    ledger, journey = infused()
    ledger.refuse(
        InvalidInput, field="payload.grade", rule="astct_grade_out_of_range", message="ASTCT",
        event_type="AdverseEventRecorded", aggregate_id=PRODUCT_ID,
        payload={"category": category, "grade": 5, "description": "x"}, actor=PHYSICIAN,
        at=journey.at + timedelta(days=2),
    )  # fmt: skip


def test_a_grade_2_crs_and_a_grade_5_infection_are_recorded() -> None:
    ledger, journey = infused()
    at = journey.at + timedelta(days=2)
    crs = {"category": "crs", "grade": 2, "description": "fever, hypotension responding to fluids"}
    ledger.record("AdverseEventRecorded", PRODUCT_ID, crs, PHYSICIAN, at)
    infection = {"category": "infection", "grade": 5, "description": "fatal invasive aspergillosis"}
    ledger.record("AdverseEventRecorded", PRODUCT_ID, infection, PHYSICIAN, at)
    assert ledger.types(PRODUCT_ID)[-2:] == ["AdverseEventRecorded", "AdverseEventRecorded"]


def test_infusion_in_a_unit_accredited_for_collection_only_is_refused() -> None:
    ledger = FakeLedger()
    for code, scope in SITES.items():
        register_site(ledger, code, ["collection"] if code == INFUSION_UNIT else scope)
    walk_pathway(ledger)
    journey = CarTJourney(ledger, acknowledges=("site_not_accredited",)).until("BedsideCheckWitnessed")
    ledger.refuse(
        RuleViolation, field="payload.site", rule="site_not_accredited", message="covering infusion",
        event_type="Infused", aggregate_id=PRODUCT_ID, payload=journey.infusion(timedelta(minutes=10)), actor=NURSE,
        at=journey.at + timedelta(minutes=30),
    )  # fmt: skip


def test_the_follow_up_schedule_cannot_be_recorded_by_hand() -> None:
    ledger, journey = infused()
    ledger.refuse(
        OutOfOrder, field="type", rule="derived_event", message="recorded by the domain when Infused",
        event_type="FollowUpScheduled", aggregate_id=uuid4(), payload={}, actor=NURSE, at=journey.at,
    )  # fmt: skip


def infused_on(ledger: FakeLedger) -> date:
    [scheduled] = [r for r in ledger.histories[PRODUCT_ID] if r.type == "FollowUpScheduled"]
    return date.fromisoformat(scheduled.payload["infused_on"])


@pytest.mark.parametrize(("visit", "due_in", "grace"), [("D+7", 7, 3), ("day 28", 28, 3)])
def test_a_visit_before_its_window_opens_is_refused_naming_the_visit_the_window_and_the_day(
    visit: str, due_in: int, grace: int
) -> None:
    ledger, journey = infused()
    opens = infused_on(ledger) + timedelta(days=due_in)
    early = journey.at + timedelta(days=due_in - 1)
    ledger.refuse(
        TimeRuleViolation, field="occurred_at", rule="follow_up_window_not_open",
        message=f"the {visit_name(visit)} visit's window opens on {opens.isoformat()} (on time until "
        f"{(opens + timedelta(days=grace)).isoformat()}); occurred_at {early.date().isoformat()} is before it",
        event_type="FollowUpRecorded", aggregate_id=PRODUCT_ID, payload={"visit": visit, "findings": "well"},
        actor=PHYSICIAN, at=early,
    )  # fmt: skip


def test_a_month_3_visit_counts_its_window_in_calendar_months() -> None:
    ledger, journey = infused()
    opens = add_months(infused_on(ledger), 3)
    day_before = journey.at + (opens - journey.at.date()) - timedelta(days=1)
    ledger.refuse(
        TimeRuleViolation, field="occurred_at", rule="follow_up_window_not_open",
        message=f"the month 3 visit's window opens on {opens.isoformat()}", event_type="FollowUpRecorded",
        aggregate_id=PRODUCT_ID, payload={"visit": "M3", "findings": "well"}, actor=PHYSICIAN, at=day_before,
    )  # fmt: skip
    ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "M3", "findings": "well"}, PHYSICIAN,
                  day_before + timedelta(days=1))  # fmt: skip
    assert ledger.product().follow_up_done == {"month 3"}


def test_a_visit_on_its_due_day_or_late_is_recorded_and_an_unscheduled_one_at_any_time() -> None:
    ledger, journey = infused()
    ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "unscheduled", "findings": "fever"}, PHYSICIAN,
                  journey.at + timedelta(days=1))  # fmt: skip
    due = journey.at + (infused_on(ledger) + timedelta(days=7) - journey.at.date())
    ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "day 7", "findings": "well"}, PHYSICIAN, due)
    ledger.record("FollowUpRecorded", PRODUCT_ID, {"visit": "day 14", "findings": "well"}, PHYSICIAN,
                  journey.at + timedelta(days=40))  # fmt: skip
    assert ledger.product().follow_up_done == {"unscheduled", "day 7", "day 14"}

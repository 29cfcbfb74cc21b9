"""Long-term follow-up: the schedule an infusion generates, the visits recorded against it, graded adverse events.

The schedule is recorded as a fact (``FollowUpScheduled``, derived from ``Infused``)
rather than recomputed on reading, so a site that later changes its configured MSC
schedule does not rewrite the visits its patients were given. Overdue is not a fact
but a reading of the schedule against today: the follow-up read model answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from domain.errors import InvalidInput, OutOfOrder, TimeRuleViolation
from domain.events import Meaning as M
from domain.events import Role as R
from domain.pathway_policy import PathwayPolicy
from domain.payloads import NON_EMPTY, DateText, FreeText
from domain.product_events import AdverseEventCategory
from domain.spec import EventSpec

UNSCHEDULED = "unscheduled"
"""The visit name for a visit outside the schedule (a patient seen for a symptom)."""
ASTCT_CATEGORIES = frozenset({AdverseEventCategory.CRS, AdverseEventCategory.ICANS})
ASTCT_MAX_GRADE = 4


@dataclass(frozen=True)
class ScheduledVisit:
    """One visit: due on a day, on time until ``latest_on``."""

    visit: str
    due_on: DateText
    latest_on: DateText


@dataclass(frozen=True)
class FollowUpScheduled:
    """The follow-up schedule of an infused product (derived from Infused)."""

    infused_on: DateText
    visits: Annotated[list[ScheduledVisit], NON_EMPTY]


@dataclass(frozen=True)
class LymphodepletionOverrideRecorded:
    """A physician authorises infusion without lymphodepletion, or outside its window, and says why in writing."""

    reason: FreeText


FOLLOW_UP_SCHEDULED = EventSpec(
    "FollowUpScheduled",
    "product",
    FollowUpScheduled,
    (M.RECORDED,),
    frozenset({R.NURSE, R.PHYSICIAN}),
    "The follow-up visits an infusion calls for (CAR-T: day 7 to year 15; MSC: as configured); recorded by "
    "recording Infused.",
    annotation=True,
    derived_from="Infused",
)
LYMPHODEPLETION_OVERRIDE_RECORDED = EventSpec(
    "LymphodepletionOverrideRecorded",
    "product",
    LymphodepletionOverrideRecorded,
    (M.APPROVED, M.AUTHORED),
    frozenset({R.PHYSICIAN}),
    "A physician's written decision to infuse a CAR-T product without lymphodepletion or outside its window.",
)
FOLLOW_UP_SPECS = (FOLLOW_UP_SCHEDULED, LYMPHODEPLETION_OVERRIDE_RECORDED)


_SHORT_VISIT = re.compile(r"^([dmy])\s*\+?\s*([0-9]+)$")
_UNITS = {"d": "day", "m": "month", "y": "year"}


def visit_name(text: str) -> str:
    """Visit names compare without case or extra spaces, and the clinic's shorthand is understood.

    "Day  7" is "day 7"; "D+28" and "D28" are "day 28"; "M3" is "month 3"; "Y2" is "year 2".
    """
    name = " ".join(text.lower().split())
    short = _SHORT_VISIT.match(name)
    return f"{_UNITS[short.group(1)]} {int(short.group(2))}" if short else name


def schedule_for(product_kind: str, infused_on: date, policy: PathwayPolicy) -> FollowUpScheduled:
    """Every visit of the product kind's schedule, counted from the infusion day."""
    visits = []
    for spec in policy.visits_for(product_kind):
        due = spec.due(infused_on)
        latest = due + timedelta(days=policy.grace_days[spec.unit])
        visits.append(ScheduledVisit(spec.name, due.isoformat(), latest.isoformat()))
    return FollowUpScheduled(infused_on.isoformat(), visits)


def check_visit(schedule: dict[str, str], done: set[str], visit: str) -> None:
    """A visit is one the schedule lists and not yet recorded, or an explicitly unscheduled one."""
    name = visit_name(visit)
    if name == UNSCHEDULED or not schedule:
        return
    if name not in schedule:
        raise InvalidInput(
            f"payload.visit {visit!r} is not a scheduled visit ({', '.join(schedule)}); use {UNSCHEDULED!r} for a "
            "visit outside the schedule",
            field="payload.visit",
            rule="unknown_visit",
        )
    if name in done:
        raise OutOfOrder(f"the {name} visit is already recorded", rule="visit_already_recorded")


def check_window_open(due: dict[str, str], latest: dict[str, str], visit: str, day: date) -> None:
    """A scheduled visit is recorded from the day it falls due: before, it cannot have been that visit.

    The schedule's window for a visit runs from its due day to its last day on time
    (``latest_on``, the due day plus the pathway's grace days); the follow-up read model
    shows a visit as upcoming until the due day, so a "month 3" visit on day 40 is a
    mislabelled visit, or an unscheduled one. A late visit is still recorded: being late
    is what the worklist reports, not a reason to lose the visit.
    """
    name = visit_name(visit)
    opens = due.get(name)
    if opens is None or day >= date.fromisoformat(opens):
        return
    raise TimeRuleViolation(
        f"the {name} visit's window opens on {opens} (on time until {latest.get(name, opens)}); occurred_at "
        f"{day.isoformat()} is before it: record it from {opens}, or record this visit as {UNSCHEDULED!r}",
        field="occurred_at",
        rule="follow_up_window_not_open",
    )


def check_cause_of_death(survival: str | None, cause_of_death: str | None, prefix: str = "payload") -> None:
    """A cause of death goes with a death: on a living patient's visit it is a slip the registries would repeat."""
    if cause_of_death is not None and survival != "dead":
        raise InvalidInput(
            f"{prefix}.cause_of_death is given but the visit's survival is {survival or 'absent'}: a cause of death "
            "is recorded only with survival dead",
            field=f"{prefix}.cause_of_death",
            rule="cause_of_death_without_death",
        )


def check_grade(category: AdverseEventCategory, grade: int) -> None:
    """CRS and ICANS are graded on the ASTCT consensus scales, which stop at grade 4."""
    if category in ASTCT_CATEGORIES and grade > ASTCT_MAX_GRADE:
        raise InvalidInput(
            f"payload.grade {grade}: {category.value.upper()} is graded 1 to {ASTCT_MAX_GRADE} on the ASTCT consensus "
            "scale; a fatal outcome is recorded as category other, grade 5",
            field="payload.grade",
            rule="astct_grade_out_of_range",
        )

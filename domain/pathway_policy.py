"""The care pathway's configurable figures: how old an RCP's evaluations may be, how long its decision counts,
and the follow-up schedules.

Figures that differ between sites live in configuration, never as constants in rules
(README, "Configuration"). ``PathwayPolicy()`` carries the workshop's defaults (evaluations less
than three months old, counted as 92 days; the long-term follow-up customary for
gene-modified cells); the ledger builds one from its settings and hands it to the domain
in the command's context. Schedules are written as text ("day 7, month 3, year 2") so a
site can configure them in one environment variable, and are checked with the setting named.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Literal, cast

from domain.errors import InvalidInput

Unit = Literal["day", "month", "year"]
UNITS: tuple[Unit, ...] = ("day", "month", "year")
_VISIT = re.compile(r"^(day|month|year)\s+([1-9][0-9]{0,3})$")


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter (31 Jan + 1 month = 28/29 Feb)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class VisitSpec:
    """One visit of a schedule, counted from the infusion day: day 7, month 3, year 2…"""

    unit: Unit
    count: int

    @property
    def name(self) -> str:
        """The visit's name, as staff write it in FollowUpRecorded.visit."""
        return f"{self.unit} {self.count}"

    def due(self, infused_on: date) -> date:
        """The day the visit falls due."""
        if self.unit == "day":
            return infused_on + timedelta(days=self.count)
        return add_months(infused_on, self.count * (1 if self.unit == "month" else 12))


def parse_visits(text: str, *, field: str) -> tuple[VisitSpec, ...]:
    """Read "day 7, day 28, month 3" into visits, refusing bad, repeated or out-of-order entries."""
    visits: list[VisitSpec] = []
    for part in (piece.strip().lower() for piece in text.split(",")):
        match = _VISIT.match(part)
        if match is None:
            raise InvalidInput(
                f"{field}: {part!r} is not a visit; write e.g. 'day 7, day 28, month 3, year 2'",
                field=field,
                rule="invalid_follow_up_schedule",
            )
        visits.append(VisitSpec(cast(Unit, match.group(1)), int(match.group(2))))
    dues = [visit.due(date(2000, 1, 1)) for visit in visits]
    if dues != sorted(set(dues)):
        raise InvalidInput(
            f"{field}: visits must be listed once each, in the order they fall due",
            field=field,
            rule="invalid_follow_up_schedule",
        )
    return tuple(visits)


CAR_T_VISITS = parse_visits(
    "day 7, day 14, day 28, month 3, month 6, month 12, " + ", ".join(f"year {n}" for n in range(2, 16)),
    field="car_t_visits",
)
"""Gene-modified cells: day 7, 14, 28, month 3, 6, 12, then yearly to 15 years (EBMT / DESCAR-T practice)."""
MSC_VISITS = parse_visits("day 7, day 28, month 3, month 6, month 12", field="msc_visits")
"""Mesenchymal stromal cells: the workshop's default, configurable per site."""
GRACE_DAYS: Mapping[Unit, int] = MappingProxyType({"day": 3, "month": 14, "year": 30})
"""How many days after its due day a visit is still on time (a week-7 visit on day 9 is not a miss)."""


@dataclass(frozen=True)
class PathwayPolicy:
    """The site's pathway figures; the defaults are the workshop's."""

    evaluation_max_age_days: int = 92
    rcp_decision_valid_days: int = 92
    """How long an RCP decision counts, to enrolment and to collection. 92 days, like the evaluations it relies
    on: a decision is only as current as the patient's state it judged, and three months is what French RCP
    practice takes as "recent" before a patient is presented again."""
    car_t_visits: tuple[VisitSpec, ...] = CAR_T_VISITS
    msc_visits: tuple[VisitSpec, ...] = MSC_VISITS
    grace_days: Mapping[Unit, int] = field(default_factory=lambda: GRACE_DAYS)

    def __post_init__(self) -> None:
        if not 1 <= self.evaluation_max_age_days <= 366:
            raise InvalidInput(
                f"rcp_evaluation_max_age_days must be between 1 and 366, got {self.evaluation_max_age_days}",
                field="rcp_evaluation_max_age_days",
                rule="out_of_range",
            )
        if not 1 <= self.rcp_decision_valid_days <= 366:
            raise InvalidInput(
                f"rcp_decision_valid_days must be between 1 and 366, got {self.rcp_decision_valid_days}",
                field="rcp_decision_valid_days",
                rule="out_of_range",
            )
        for name, visits in (("car_t_visits", self.car_t_visits), ("msc_visits", self.msc_visits)):
            if not visits:
                raise InvalidInput(f"{name} must list at least one visit", field=name, rule="too_few_items")

    def visits_for(self, product_kind: str) -> tuple[VisitSpec, ...]:
        """The schedule of a product kind."""
        return self.car_t_visits if product_kind == "car_t" else self.msc_visits

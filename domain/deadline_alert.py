"""A running deadline about to expire: the alert the ledger raises once per level, and who is told.

Running deadlines are the product status's clocks (thaw to infusion, the fresh shipping window) and the
follow-up visits not yet recorded, whose last on-time day is their warning.

The alert is a signed fact rather than a message sent and forgotten, for two reasons: whoever
follows the log (the event stream, webhooks) carries it with no code of its own, and "once"
becomes a property of the store. Each running deadline has its own aggregate, whose id is
derived from the product, the deadline and the instant it expires: two scanners racing to
raise the same level both compute the same next version, and the store keeps only one.

Levels are raised separately (amber, then red): a nurse told "15 minutes left" needs to be
told again at "5 minutes left", and each notice still comes once. A deadline first seen at
red raises red alone; a deadline already past raises nothing (it is not about to expire: the
worklist shows it overdue), so a scanner started on an old ledger does not flood anyone.
A deadline that moves (a catalogue change) is another deadline with its own alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID, uuid5

from domain.aggregate import Aggregate
from domain.catalogue import CatalogueEntry
from domain.deadline_urgency import Urgency, urgency
from domain.events import EventRecord
from domain.events import Meaning as M
from domain.events import Role as R
from domain.payloads import NON_EMPTY, Timestamp
from domain.spec import EventSpec

KIND = "alert"
ALERT_NAMESPACE = UUID("5f0c2a57-8a43-4d0e-9a51-3c1d7e2b9a60")
"""Fixed for ever: changing it would give every running deadline a fresh alert."""


class AlertLevel(StrEnum):
    """How close the deadline is, by the catalogue's thresholds; the order is the order of alarm."""

    AMBER = "amber"
    RED = "red"


class Deadline(StrEnum):
    """The running deadlines an alert can be raised for."""

    THAW_TO_INFUSION = "thaw_to_infusion"
    FRESH_SHIPPING_WINDOW = "fresh_shipping_window"
    FOLLOW_UP_VISIT = "follow_up_visit"


ROLES_CONCERNED: dict[Deadline, tuple[R, ...]] = {
    # the bedside team infuses; the sponsor follows its trial's products
    Deadline.THAW_TO_INFUSION: (R.NURSE, R.PHYSICIAN, R.SPONSOR),
    # the collecting nurse hands the cells over, the courier carries them, the manufacturer's QP receives them
    Deadline.FRESH_SHIPPING_WINDOW: (R.NURSE, R.COURIER, R.QP, R.SPONSOR),
    # the follow-up clinic books and sees the patient; a visit is the patient's record, not the sponsor's
    Deadline.FOLLOW_UP_VISIT: (R.NURSE, R.PHYSICIAN),
}


@dataclass(frozen=True)
class DeadlineAlertRaised:
    """A running deadline of a product reached a threshold: the roles named are told."""

    product_id: str
    coi: str
    deadline: Deadline
    deadline_at: Timestamp
    level: AlertLevel
    roles: Annotated[list[R], NON_EMPTY]
    visit: str | None = None
    """The follow-up visit whose last on-time day it is (follow-up visits only)."""


DEADLINE_ALERT_RAISED = EventSpec(
    "DeadlineAlertRaised",
    KIND,
    DeadlineAlertRaised,
    (M.RECORDED,),
    frozenset({R.SYSTEM}),
    "The ledger found a running deadline (thaw to infusion, fresh shipping window) close to expiring, at the "
    "catalogue's amber or red threshold, or a follow-up visit on its last on-time day, and tells the roles "
    "concerned, once per level.",
    derived_from="the deadline scan (custody alerts run)",
    singleton=True,  # the id is fixed by the deadline: the first alert opens it, the red one continues it
)
ALERT_SPECS = (DEADLINE_ALERT_RAISED,)


class DeadlineAlert(Aggregate):
    """One running deadline's alerts: which levels were already raised."""

    kind = KIND

    def __init__(self, aggregate_id: UUID) -> None:
        super().__init__(aggregate_id)
        self.levels: set[AlertLevel] = set()

    def when_DeadlineAlertRaised(self, record: EventRecord) -> None:
        self.levels.add(AlertLevel(str(record.payload["level"])))


def alert_id(product_id: UUID, deadline: str, deadline_at: datetime, visit: str | None = None) -> UUID:
    """The aggregate of one running deadline: the same for every scanner, another one if the deadline moves."""
    instant = deadline_at.astimezone(UTC).isoformat()
    return uuid5(ALERT_NAMESPACE, f"{product_id}/{deadline}/{instant}" + ("" if visit is None else f"/{visit}"))


def level_due(
    deadline: str, deadline_at: datetime, now: datetime, entry: CatalogueEntry | None, raised: set[AlertLevel]
) -> AlertLevel | None:
    """The level to raise now, if any: the deadline's level by the catalogue, unless raised already.

    Red once raised covers amber (a deadline first seen at red never raises amber afterwards: time only runs on).
    """
    level = urgency(deadline, (deadline_at - now).total_seconds(), entry)
    if level == Urgency.RED and AlertLevel.RED not in raised:
        return AlertLevel.RED
    if level == Urgency.AMBER and not raised:
        return AlertLevel.AMBER
    return None


def visit_level_due(
    last_day_starts_at: datetime, last_day_ends_at: datetime, now: datetime, raised: set[AlertLevel]
) -> AlertLevel | None:
    """A follow-up visit not yet recorded is about to be missed on its last on-time day: amber, once.

    Visits count in days, and the catalogue sets no threshold for them: the last on-time day (``latest_on``,
    the due day plus the pathway's grace days) is the warning, from its first minute at the site to its last.
    """
    if raised or not last_day_starts_at <= now < last_day_ends_at:
        return None
    return AlertLevel.AMBER


def alert_payload(
    product_id: UUID, coi: str, deadline: str, deadline_at: datetime, level: AlertLevel, visit: str | None = None
) -> DeadlineAlertRaised:
    """What the alert says: the product, its deadline and level, and the roles to tell."""
    kind = Deadline(deadline)
    return DeadlineAlertRaised(
        product_id=str(product_id),
        coi=coi,
        deadline=kind,
        deadline_at=deadline_at.astimezone(UTC).isoformat(),
        level=level,
        roles=list(ROLES_CONCERNED[kind]),
        visit=visit,
    )

"""The deadline scan: raise, signed by the ledger, each alert a running deadline has reached.

The running deadlines are read from the product status table (``deadline_at``, caught up
first), their level from the signed catalogue's thresholds (domain/deadline_urgency.py); the
follow-up visits not recorded from the follow-up table, on their last on-time day at the site
(CUSTODY_TIMEZONE); what was already raised from each deadline's own alert aggregate
(domain/deadline_alert.py).
Every alert is stored in its own transaction at the version its scanner saw next: when two
scanners (two servers, a server and `custody alerts run`) race, the store keeps the first and
refuses the other (``ConcurrentChange``), which the loser takes as "already raised".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.deadline_alert import (
    DEADLINE_ALERT_RAISED,
    AlertLevel,
    Deadline,
    DeadlineAlert,
    alert_id,
    alert_payload,
    level_due,
    visit_level_due,
)
from domain.spec import derived_event
from ledger.clock import parse_instant
from ledger.envelope import Envelope
from ledger.ledger_meta import LEDGER_USER
from ledger.service import CustodyLedger, Head
from ledger.store import ConcurrentChange
from projections.followup import FOLLOWUP_VISITS, FollowUpFollower
from projections.product_status import STATUS, ProductStatusFollower


@dataclass(frozen=True)
class DueAlert:
    """An alert a scan decided to raise, with the head of its aggregate when it looked."""

    alert_id: UUID
    head: Head
    payload: object


def _raised(ledger: CustodyLedger, target: UUID) -> tuple[set[AlertLevel], Head]:
    """The levels already raised for one deadline, and the head the next alert attaches to."""
    alert, head = ledger.replay(ledger.history(target))
    return (set(alert.levels) if isinstance(alert, DeadlineAlert) else set()), head


def due_alerts(ledger: CustodyLedger, now: datetime) -> list[DueAlert]:
    """Every alert the running deadlines and the follow-up visits call for at ``now`` and not yet raised."""
    return [*_clock_alerts(ledger, now), *_visit_alerts(ledger, now)]


def _clock_alerts(ledger: CustodyLedger, now: datetime) -> list[DueAlert]:
    """The product status's running clocks at their amber or red threshold, most urgent first."""
    ProductStatusFollower(ledger.store).catch_up()
    with ledger.store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT product_id, coi, product_code, deadline_kind, deadline_at FROM {STATUS.name} "
            "WHERE deadline_at IS NOT NULL ORDER BY deadline_at, product_id"
        )
        rows = cursor.fetchall()
    catalogue = ledger.catalogue
    due = []
    for row in rows:
        product_id, kind = UUID(str(row["product_id"])), str(row["deadline_kind"])
        deadline_at = parse_instant(str(row["deadline_at"]))
        code = row["product_code"]
        entry = catalogue.get(code) if code is not None and code in catalogue else None
        target = alert_id(product_id, kind, deadline_at)
        raised, head = _raised(ledger, target)
        level = level_due(kind, deadline_at, now, entry, raised)
        if level is not None:
            due.append(DueAlert(target, head, alert_payload(product_id, str(row["coi"]), kind, deadline_at, level)))
    return due


def _visit_alerts(ledger: CustodyLedger, now: datetime) -> list[DueAlert]:
    """The follow-up visits not recorded whose last on-time day it is at the site."""
    tz = ZoneInfo(ledger.settings.timezone)
    today = now.astimezone(tz).date()
    FollowUpFollower(ledger.store).catch_up()
    with ledger.store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT product_id, coi, visit, latest_on FROM {FOLLOWUP_VISITS.name} "
            "WHERE done_at IS NULL AND latest_on = %s ORDER BY product_id, sequence",
            (today.isoformat(),),
        )
        rows = cursor.fetchall()
    due = []
    for row in rows:
        product_id, visit = UUID(str(row["product_id"])), str(row["visit"])
        starts, ends = _day_at_site(date.fromisoformat(str(row["latest_on"])), tz)
        target = alert_id(product_id, Deadline.FOLLOW_UP_VISIT, ends, visit)
        raised, head = _raised(ledger, target)
        level = visit_level_due(starts, ends, now, raised)
        if level is not None:
            payload = alert_payload(product_id, str(row["coi"]), Deadline.FOLLOW_UP_VISIT, ends, level, visit)
            due.append(DueAlert(target, head, payload))
    return due


def _day_at_site(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of a day at the site and the first of the next (23 or 25 hours apart on a clock change)."""
    return datetime.combine(day, time(), tz), datetime.combine(day + timedelta(days=1), time(), tz)


def raise_alerts(ledger: CustodyLedger, due: list[DueAlert], now: datetime) -> list[Envelope]:
    """Sign and store each alert on its own; one another scanner stored first is skipped, not raised twice."""
    actor = ledger.actor(LEDGER_USER)[0]
    key = ledger.meta.ledger_key_pair()
    stored: list[Envelope] = []
    for alert in due:
        event = derived_event(DEADLINE_ALERT_RAISED, alert.alert_id, alert.payload, now, by_ledger=True)
        try:
            stored.extend(ledger.append_signed([event], actor, key, {alert.alert_id: alert.head}, now))
        except ConcurrentChange:
            continue  # another scanner raised this level first: the store kept one
    return stored


def scan(ledger: CustodyLedger) -> list[Envelope]:
    """One scan at the ledger's clock: the alerts raised now (none when everything due was already raised)."""
    now = ledger.clock.now()
    return raise_alerts(ledger, due_alerts(ledger, now), now)

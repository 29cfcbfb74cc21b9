"""Which alert level a running deadline calls for, from the catalogue's thresholds, once per level.

ACADEMIC-CD19's thresholds are written out here by hand (thaw to infusion: amber at 15 minutes left, red at 5;
fresh shipping window: amber at 360 minutes, red at 120), never read from the table under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from domain.catalogue import Catalogue
from domain.deadline_alert import AlertLevel, alert_id, alert_payload, level_due, visit_level_due

DEADLINE = datetime(2026, 3, 27, 10, 4, tzinfo=UTC)
PRODUCT = UUID("0b7e4d8e-6a4f-4c55-9d0a-2f3c1e5b7a11")
ENTRY = Catalogue.default().get("ACADEMIC-CD19")
NONE: set[AlertLevel] = set()


@pytest.mark.parametrize(
    ("left", "raised", "expected"),
    [
        (timedelta(minutes=16), NONE, None),  # calm
        (timedelta(minutes=15), NONE, AlertLevel.AMBER),  # amber from 15 minutes left, inclusive
        (timedelta(minutes=6), {AlertLevel.AMBER}, None),  # amber raised once
        (timedelta(minutes=5), {AlertLevel.AMBER}, AlertLevel.RED),  # red from 5 minutes left
        (timedelta(minutes=3), NONE, AlertLevel.RED),  # first seen at red: red alone
        (timedelta(minutes=3), {AlertLevel.RED}, None),
        (timedelta(minutes=1), {AlertLevel.AMBER, AlertLevel.RED}, None),
        (timedelta(seconds=0), NONE, AlertLevel.RED),  # reached to the second: not yet overdue
        (timedelta(seconds=-1), NONE, None),  # past: not about to expire, nothing raised
    ],
)
def test_thaw_to_infusion_levels(left: timedelta, raised: set[AlertLevel], expected: AlertLevel | None) -> None:
    assert level_due("thaw_to_infusion", DEADLINE, DEADLINE - left, ENTRY, raised) == expected


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(hours=6, minutes=1), None),
        (timedelta(hours=6), AlertLevel.AMBER),
        (timedelta(hours=2), AlertLevel.RED),
    ],
)
def test_the_fresh_window_has_its_own_thresholds(left: timedelta, expected: AlertLevel | None) -> None:
    assert level_due("fresh_shipping_window", DEADLINE, DEADLINE - left, ENTRY, set()) == expected


def test_a_product_no_longer_in_the_catalogue_raises_nothing_before_its_deadline() -> None:
    assert level_due("thaw_to_infusion", DEADLINE, DEADLINE - timedelta(minutes=1), None, set()) is None


def test_the_alert_id_is_one_per_deadline_whatever_the_zone_it_is_written_in() -> None:
    paris = DEADLINE.astimezone(datetime.fromisoformat("2026-03-27T11:04:00+01:00").tzinfo)
    assert alert_id(PRODUCT, "thaw_to_infusion", paris) == alert_id(PRODUCT, "thaw_to_infusion", DEADLINE)
    assert alert_id(PRODUCT, "thaw_to_infusion", DEADLINE) != alert_id(PRODUCT, "fresh_shipping_window", DEADLINE)
    moved = DEADLINE + timedelta(minutes=30)
    assert alert_id(PRODUCT, "thaw_to_infusion", moved) != alert_id(PRODUCT, "thaw_to_infusion", DEADLINE)


def test_the_roles_told_follow_the_deadline() -> None:
    thaw = alert_payload(PRODUCT, "COI-1", "thaw_to_infusion", DEADLINE, AlertLevel.AMBER)
    assert {str(role) for role in thaw.roles} == {"nurse", "physician", "sponsor"}
    assert thaw.deadline_at == "2026-03-27T10:04:00+00:00"
    fresh = alert_payload(PRODUCT, "COI-1", "fresh_shipping_window", DEADLINE, AlertLevel.RED)
    assert {str(role) for role in fresh.roles} == {"nurse", "courier", "qp", "sponsor"}


DAY_STARTS = datetime(2026, 4, 12, 22, 0, tzinfo=UTC)  # 13 April 2026 in Paris (UTC+2)
DAY_ENDS = datetime(2026, 4, 13, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "raised", "expected"),
    [
        (datetime(2026, 4, 12, 21, 59, 59, tzinfo=UTC), NONE, None),  # the day before
        (DAY_STARTS, NONE, AlertLevel.AMBER),  # from the first minute of the last on-time day
        (datetime(2026, 4, 13, 21, 59, 59, tzinfo=UTC), NONE, AlertLevel.AMBER),
        (datetime(2026, 4, 13, 12, 0, tzinfo=UTC), {AlertLevel.AMBER}, None),  # once
        (DAY_ENDS, NONE, None),  # missed: not warned of
    ],
)
def test_a_visit_warns_on_its_last_on_time_day(
    now: datetime, raised: set[AlertLevel], expected: AlertLevel | None
) -> None:
    assert visit_level_due(DAY_STARTS, DAY_ENDS, now, raised) == expected


def test_two_visits_ending_together_are_two_alerts_and_their_roles_are_the_clinic_s() -> None:
    day_14 = alert_id(PRODUCT, "follow_up_visit", DAY_ENDS, "day 14")
    assert day_14 != alert_id(PRODUCT, "follow_up_visit", DAY_ENDS, "day 28")
    assert day_14 != alert_id(PRODUCT, "follow_up_visit", DAY_ENDS)
    visit = alert_payload(PRODUCT, "COI-1", "follow_up_visit", DAY_ENDS, AlertLevel.AMBER, "day 14")
    assert ({str(role) for role in visit.roles}, visit.visit) == ({"nurse", "physician"}, "day 14")

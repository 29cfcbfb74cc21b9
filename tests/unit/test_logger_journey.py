"""The journey's readings, sample and hold: time outside a range and gaps, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.logger_journey import Gap, journey
from domain.logger_readings import Reading
from domain.temperature_verdict import AcceptableRange

SENT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ARRIVED = SENT + timedelta(hours=2)
LN2 = AcceptableRange(None, -150.0)


def at(minute: float, celsius: float) -> Reading:
    return Reading(SENT + timedelta(minutes=minute), celsius)


def test_the_reading_before_dispatch_holds_and_readings_after_receipt_are_ignored() -> None:
    readings = [at(-60, 20.0), at(-5, -140.0), at(10, -180.0), at(120, -180.0), at(125, 22.0)]
    trip = journey(readings, SENT, ARRIVED)
    assert trip is not None
    assert [r.celsius for r in trip.readings] == [-140.0, -180.0, -180.0]  # 20 °C on the bench is not the journey
    assert trip.inside == 2
    # -140 °C held from dispatch to the 10th minute: 10 min outside ≤ -150 °C; 22 °C after receipt does not count.
    figures = trip.figures(LN2)
    assert (figures.min_c, figures.max_c, figures.excursion_min) == (-180.0, -140.0, 10)


def test_a_second_outside_is_a_minute_outside() -> None:
    trip = journey([at(0, -180.0), at(30, -149.0), at(30 + 1 / 60, -180.0)], SENT, ARRIVED)
    assert trip is not None and trip.minutes_outside(LN2) == 1


def test_gaps_at_the_start_between_readings_and_at_the_end() -> None:
    readings = [at(20, -180.0), at(30, -180.0), at(75, -180.0), at(80, -180.0)]
    trip = journey(readings, SENT, ARRIVED)
    assert trip is not None
    assert trip.gaps(timedelta(minutes=30)) == [Gap(at(30, 0).at, at(75, 0).at), Gap(at(80, 0).at, ARRIVED)]
    assert [gap.minutes for gap in trip.gaps(timedelta(minutes=15))] == [20, 45, 40]
    assert trip.longest_gap().minutes == 45
    # Nothing before the first reading is known: the leading 20 minutes are a gap, not time outside.
    assert trip.minutes_outside(AcceptableRange(None, -190.0)) == 100


def test_a_gap_exactly_at_the_limit_is_allowed() -> None:
    trip = journey([at(0, -180.0), at(30, -180.0), at(120, -180.0)], SENT, ARRIVED)
    assert trip is not None
    assert [(g.start, g.end) for g in trip.gaps(timedelta(minutes=90))] == []
    assert [g.minutes for g in trip.gaps(timedelta(minutes=89))] == [90]


def test_a_file_with_no_reading_during_the_journey_is_none() -> None:
    assert journey([at(-90, -180.0), at(-10, -180.0), at(121, -180.0)], SENT, ARRIVED) is None

"""What a logger's readings say of one journey: the temperature it held, time outside a range, and gaps.

A logger samples; between two readings the ledger takes the temperature to be the one
last read (sample and hold), since that is the only figure anybody measured. So:

- the journey runs from the shipment's dispatch to its receipt; readings before the
  dispatch are the logger warming up or being packed and are ignored, except the last
  one, which is the temperature at dispatch and holds until the next reading; readings
  after the receipt are the opened shipper and are ignored;
- time outside a range is the sum of the stretches whose held reading lies outside it,
  rounded up to the minute (a second outside is a minute outside: the rounding never
  hides an excursion);
- a gap is a stretch of the journey without a reading (between two readings, from the
  dispatch to the first reading when none came before it, from the last reading to the
  receipt); one longer than the catalogue allows means the temperature was not known
  for that long, which is a deviation (domain/logger_rules.py).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.logger_readings import Reading
from domain.temperature_verdict import AcceptableRange, LoggerFigures


@dataclass(frozen=True)
class Gap:
    """A stretch of the journey the logger recorded nothing in."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> int:
        """Its length, rounded up to the minute."""
        return _minutes(self.end - self.start)


@dataclass(frozen=True)
class Journey:
    """The readings that tell the temperature from ``start`` (dispatch) to ``end`` (receipt)."""

    start: datetime
    end: datetime
    readings: tuple[Reading, ...]
    """The last reading before ``start`` (if any), then every reading from ``start`` to ``end``."""

    @property
    def inside(self) -> int:
        """How many readings were taken during the journey itself."""
        return sum(1 for reading in self.readings if reading.at >= self.start)

    def figures(self, acceptable: AcceptableRange) -> LoggerFigures:
        """Lowest and highest reading, and minutes outside ``acceptable``, as a receipt's logger figures are."""
        values = [reading.celsius for reading in self.readings]
        return LoggerFigures(min(values), max(values), self.minutes_outside(acceptable))

    def minutes_outside(self, acceptable: AcceptableRange) -> int:
        """Time the held temperature spent outside ``acceptable``, rounded up to the minute."""
        outside = timedelta(0)
        for reading, (start, end) in zip(self.readings, self._stretches(), strict=True):
            if not acceptable.admits(reading.celsius):
                outside += end - start
        return _minutes(outside)

    def gaps(self, longer_than: timedelta) -> list[Gap]:
        """Every stretch of the journey without a reading that lasts longer than ``longer_than``."""
        points = [self.start, *(max(reading.at, self.start) for reading in self.readings), self.end]
        found = [Gap(start, end) for start, end in itertools.pairwise(points)]
        return [gap for gap in found if gap.end - gap.start > longer_than]

    def longest_gap(self) -> Gap:
        """The longest stretch without a reading (zero long when readings are continuous from dispatch)."""
        every = self.gaps(timedelta(-1))
        return max(every, key=lambda gap: gap.end - gap.start)

    def _stretches(self) -> list[tuple[datetime, datetime]]:
        """For each reading, the part of the journey its temperature holds for."""
        starts = [max(reading.at, self.start) for reading in self.readings]
        return list(zip(starts, [*starts[1:], self.end], strict=True))


def journey(readings: list[Reading], start: datetime, end: datetime) -> Journey | None:
    """The readings of the journey ``start`` → ``end``; None when the logger read nothing during it."""
    before = [reading for reading in readings if reading.at < start]
    during = tuple(reading for reading in readings if start <= reading.at <= end)
    if not during:
        return None
    return Journey(start, end, (*before[-1:], *during))


def _minutes(length: timedelta) -> int:
    return math.ceil(length.total_seconds() / 60)

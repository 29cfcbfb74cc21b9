"""The table Onset's HOBOware exports (File > Export Table Data), read as the ledger reads any logger file.

HOBOware writes its own header rather than a plain ``timestamp,temperature`` one
(docs/temperature-loggers.md maps it column by column)::

    "#","Date Time, GMT+01:00","Temp, °C (LGR S/N: 20123456, SEN S/N: 20123456)","Stopped (LGR S/N: 20123456)"

Its times carry no offset of their own: the export states one for the whole table in the
time column's heading, so a heading without it leaves every time unplaced and the file is
refused rather than read in some zone the ledger would have to assume. Its dates are in
HOBOware's default US order, month first (``12/01/26`` is 1 December 2026): a day-first
date reads the same way, so the order cannot be told from the file and only the default
one is accepted. Rows that only mark an event (the coupler attached, the logger stopped)
carry no temperature and are not readings.

Only the shape is read here; domain/logger_readings.py reads the rows of every layout
alike and names every bad one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from fractions import Fraction

TIME_HEADING = re.compile(r"date time(?:\s*,\s*(?P<zone>.*))?", re.IGNORECASE)
ZONE = re.compile(r"gmt(?P<sign>[+-])(?P<hours>\d{2}):(?P<minutes>\d{2})", re.IGNORECASE)
TEMPERATURE_HEADING = re.compile(r"temp\s*,\s*°(?P<unit>[cf])(?:\s*\((?P<sensor>.*)\))?", re.IGNORECASE)
SERIAL = re.compile(r"LGR S/N:\s*(?P<serial>[^,)]+)", re.IGNORECASE)
MOMENT = re.compile(
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4}|\d{2}) "
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2}):(?P<second>\d{2})(?: (?P<half>[AP]M))?",
    re.IGNORECASE,
)
WIDEST_OFFSET = timedelta(hours=14)
"""The widest offset any civil time zone uses (Kiribati, +14:00); a wider one is a corrupt heading."""
EXPORT_FORMAT = "MM/DD/YY hh:mm:ss AM/PM (or its 24-hour form), month first, e.g. 12/01/26 10:05:00 AM"


class UnreadableExport(ValueError):
    """A HOBOware header the ledger recognises but cannot read readings from; the message says how to export it."""


@dataclass(frozen=True)
class HobowareColumns:
    """Where a HOBOware table holds what the ledger reads, and how to read it."""

    time: int
    zone: timezone
    temperature: int
    fahrenheit: bool
    measurements: tuple[int, ...]
    """Every column measuring something (``RH, %``, the temperature in the other unit): never an event."""
    events: tuple[int, ...]
    """Every other column but the row number: Coupler Attached, Stopped, End Of File, Bad Battery…"""

    def marks_an_event(self, cells: list[str]) -> bool:
        """Whether the row only marks an event: no measurement at all, and something in an event column.

        A row with an empty temperature and no event stays a reading without a temperature, refused
        as in any layout: only HOBOware's own event markers are passed over.
        """
        if any(_cell(cells, column) for column in (self.temperature, *self.measurements)):
            return False
        return any(_cell(cells, column) for column in self.events)


def names_hoboware_temperature(cells: list[str]) -> bool:
    """Whether a header row is HOBOware's: a heading ``Temp, °C`` or ``Temp, °F``."""
    return any(TEMPERATURE_HEADING.fullmatch(cell.strip()) for cell in cells)


def hoboware_columns(cells: list[str]) -> HobowareColumns:
    """The columns of a HOBOware header row; ``UnreadableExport`` when the times or the temperature cannot be read."""
    headings = [cell.strip() for cell in cells]
    time, zone = _time_column(headings)
    temperature, fahrenheit = _temperature_column(headings)
    measurements = tuple(i for i, heading in enumerate(headings) if i not in (time, temperature) and _measures(heading))
    events = tuple(
        i for i, heading in enumerate(headings) if i not in (time, temperature, *measurements) and heading != "#"
    )
    return HobowareColumns(time, zone, temperature, fahrenheit, measurements, events)


def hoboware_serial(cells: list[str]) -> str | None:
    """The logger's serial number as the first temperature heading names it (``LGR S/N: 20123456``), if it does."""
    for cell in cells:
        heading = TEMPERATURE_HEADING.fullmatch(cell.strip())
        found = SERIAL.search(heading.group("sensor") or "") if heading else None
        if found:
            return found.group("serial").strip()
    return None


def local_time(text: str, zone: timezone) -> datetime:
    """A row's date and time placed in the export's zone; ``ValueError`` saying how to export it otherwise."""
    found = MOMENT.fullmatch(text)
    if found is None:
        raise ValueError(f"{text!r} is not a HOBOware date and time: export them as {EXPORT_FORMAT}")
    year = int(found["year"]) + (2000 if len(found["year"]) == 2 else 0)
    hour = int(found["hour"])
    if found["half"] is not None:
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r} has hour {hour}, not on a 12-hour clock: export them as {EXPORT_FORMAT}")
        hour = hour % 12 + (12 if found["half"].upper() == "PM" else 0)
    try:
        return datetime(
            year, int(found["month"]), int(found["day"]), hour, int(found["minute"]), int(found["second"]), tzinfo=zone
        )
    except ValueError as error:
        raise ValueError(f"{text!r} is not a date and time ({error}): export them as {EXPORT_FORMAT}") from None


def celsius_of_fahrenheit(text: str) -> float:
    """(F − 32) × 5/9 worked out on the figure as written, then rounded once: -297.4 °F is -183 °C, not -182.99…"""
    return float((Fraction(text.strip()) - 32) * 5 / 9)


def _time_column(headings: list[str]) -> tuple[int, timezone]:
    found = [(i, match) for i, heading in enumerate(headings) if (match := TIME_HEADING.fullmatch(heading))]
    if not found:
        raise UnreadableExport(
            "the HOBOware export has no 'Date Time, GMT±HH:MM' column: export the date and the time in one column"
        )
    if len(found) > 1:
        raise UnreadableExport(f"the HOBOware export has {len(found)} 'Date Time' columns: export one table")
    column, heading = found[0]
    zone = ZONE.fullmatch(heading["zone"].strip()) if heading["zone"] else None
    if zone is None:
        raise UnreadableExport(
            f"the HOBOware time column {headings[column]!r} names no offset from GMT, so its times cannot be "
            "placed: export with the offset in the heading ('Date Time, GMT+01:00')"
        )
    offset = timedelta(hours=int(zone["hours"]), minutes=int(zone["minutes"]))
    if int(zone["minutes"]) >= 60 or offset > WIDEST_OFFSET:
        raise UnreadableExport(f"the HOBOware time column {headings[column]!r} names no civil offset from GMT")
    return column, timezone(-offset if zone["sign"] == "-" else offset)


def _temperature_column(headings: list[str]) -> tuple[int, bool]:
    """The one temperature series read: in °C when the export also shows it in °F."""
    found = [(i, match) for i, heading in enumerate(headings) if (match := TEMPERATURE_HEADING.fullmatch(heading))]
    if not found:
        raise UnreadableExport("the HOBOware export has no 'Temp, °C' or 'Temp, °F' column")
    sensors = {(match["sensor"] or "").strip() for _, match in found}
    if len(sensors) > 1:
        raise UnreadableExport(
            f"the HOBOware export holds the temperatures of {len(sensors)} sensors: export the one that "
            "travelled with the products"
        )
    celsius = [i for i, match in found if match["unit"].lower() == "c"]
    chosen = celsius or [i for i, _ in found]
    if len(chosen) > 1:
        raise UnreadableExport(f"the HOBOware export has {len(chosen)} temperature columns in the same unit")
    return chosen[0], not celsius


def _measures(heading: str) -> bool:
    """Whether a heading names a quantity and its unit (``RH, %``, ``Temp, °F (…)``), as an event's never does."""
    return "," in heading.split("(", 1)[0]


def _cell(cells: list[str], column: int) -> bool:
    return column < len(cells) and bool(cells[column].strip())

"""A data logger's file read into timed readings, or refused with every bad line named.

The ledger judges a shipment's temperatures from the file the logger itself wrote (README,
"Temperature loggers"), so the file is read strictly: a reading the ledger guessed at would
be a figure nobody measured. The shape accepted is the one commercial loggers export as
CSV (RFC 4180, read with Python's ``csv`` module), in one of two layouts told apart by the
header row (docs/temperature-loggers.md maps both):

- UTF-8 (a byte-order mark is allowed), delimited by commas, semicolons or tabs;
- optional lines before the header (exports start with the device's serial, its
  configuration, the alarm settings): they are skipped;
- the generic layout: a header row naming a time column (``timestamp``, ``time``,
  ``date/time``, ``datetime``, ``date time``) and a temperature column (``temperature``,
  ``temperature_c``, ``temperature (°c)``, ``temperature [°c]``, ``temp``, ``°c``, in
  any case), other columns (humidity, alarms) ignored; one reading per row: an ISO 8601
  time with its offset (``2026-12-01T10:05:00+01:00`` or ``…Z``: a time without one
  cannot be placed on the journey) and a temperature in °C (a decimal comma is read as a
  point when the delimiter is not a comma);
- Onset HOBOware's export table (domain/logger_hoboware.py): a ``Date Time, GMT±HH:MM``
  column whose offset places every row's US-ordered local time, a ``Temp, °C`` or
  ``Temp, °F`` column (°F converted to °C), and rows that only mark an event skipped;
  ``logger_serial`` gives the logger's serial number its header names;
- times strictly increasing: a logger writes each moment once, in order.

Every bad row is refused with its line number and what is wrong, under the rule
``invalid_logger_file`` and the field of the first one (``readings[12].temperature``,
counting readings from 0): the file is then not stored and nothing is recorded.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timezone

from domain.errors import InvalidInput
from domain.logger_hoboware import (
    HobowareColumns,
    UnreadableExport,
    celsius_of_fahrenheit,
    hoboware_columns,
    hoboware_serial,
    local_time,
    names_hoboware_temperature,
)

RULE = "invalid_logger_file"
TIME_COLUMNS = frozenset({"timestamp", "time", "date/time", "datetime", "date time", "date_time"})
TEMPERATURE_COLUMNS = frozenset(
    {"temperature", "temperature_c", "temperature (°c)", "temperature [°c]", "temperature(°c)", "temp", "°c"}
)
MAX_READINGS = 200_000
"""Two readings a minute for more than two months: more than any shipper's journey; beyond it the file is refused."""
LOWEST_C, HIGHEST_C = -273.15, 100.0
"""What a logger can read (domain/shipment.py's ``Celsius``); anything else is a corrupt cell."""
SHOWN_PROBLEMS = 10


@dataclass(frozen=True)
class Reading:
    """One moment the logger recorded, and the temperature it read then."""

    at: datetime
    celsius: float


@dataclass(frozen=True)
class _Layout:
    """Which line is the header, its delimiter, where the time and the temperature are, and HOBOware's specifics."""

    header: int
    delimiter: str
    time: int
    temperature: int
    hoboware: HobowareColumns | None = None


@dataclass(frozen=True)
class _Problem:
    line: int
    field: str
    why: str

    def describe(self) -> str:
        return f"line {self.line} ({self.field}): {self.why}"


def parse_logger_csv(content: bytes) -> list[Reading]:
    """The file's readings in order; ``InvalidInput`` (``invalid_logger_file``) naming every bad line otherwise."""
    lines = _decode(content).splitlines(keepends=True)
    layout = _header(lines)
    if layout is None:
        raise InvalidInput(
            "the logger file has no header row naming a time column (one of: "
            f"{', '.join(sorted(TIME_COLUMNS))}) and a temperature column (one of: "
            f"{', '.join(sorted(TEMPERATURE_COLUMNS))})",
            field="readings",
            rule=RULE,
        )
    readings: list[Reading] = []
    problems: list[_Problem] = []
    number = -1
    for line, cells in _data_rows(lines, layout.header, layout.delimiter, problems):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (exports often end with one)
        if layout.hoboware is not None and layout.hoboware.marks_an_event(cells):
            continue  # the coupler attached, the logger stopped…: a moment, not a reading
        number += 1
        reading = _reading(line, f"readings[{number}]", cells, layout, problems)
        if reading is None:
            continue
        if readings and reading.at <= readings[-1].at:
            problems.append(
                _Problem(
                    line,
                    f"readings[{number}].timestamp",
                    f"{reading.at.isoformat()} is not after the previous reading's {readings[-1].at.isoformat()}: "
                    "a logger records each moment once, in order",
                )
            )
            continue
        readings.append(reading)
        if len(readings) > MAX_READINGS:
            raise InvalidInput(
                f"the logger file holds more than {MAX_READINGS} readings: export the journey only",
                field="readings",
                rule=RULE,
            )
    _refuse_problems(problems)
    if not readings:
        raise InvalidInput("the logger file holds a header but no reading", field="readings", rule=RULE)
    return readings


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"the logger file is not UTF-8 text (byte {error.start}): export it as UTF-8 CSV",
            field="readings",
            rule=RULE,
        ) from None


def logger_serial(content: bytes) -> str | None:
    """The logger's serial number as a HOBOware header names it (``LGR S/N: 20123456``); None when the file names none.

    Taken from the file the logger wrote rather than typed in, so that it can be set against
    the logger a shipment left with; a file that is not UTF-8 names nothing that can be read.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    for _, _, cells in _candidate_rows(text.splitlines(keepends=True)):
        if _generic_columns(cells) is not None:
            return None
        if names_hoboware_temperature(cells):
            return hoboware_serial(cells)
    return None


def _header(lines: list[str]) -> _Layout | None:
    """The first row that is a header of either layout; ``InvalidInput`` when it is HOBOware's but cannot be read."""
    for index, delimiter, cells in _candidate_rows(lines):
        generic = _generic_columns(cells)
        if generic is not None:
            return _Layout(index, delimiter, *generic)
        if names_hoboware_temperature(cells):
            try:
                columns = hoboware_columns(cells)
            except UnreadableExport as refused:
                raise InvalidInput(str(refused), field="readings", rule=RULE) from None
            return _Layout(index, delimiter, columns.time, columns.temperature, columns)
    return None


def _candidate_rows(lines: list[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(index, delimiter, cells) of every line read with each delimiter it holds, in the order a header is sought."""
    for index, line in enumerate(lines):
        for delimiter in (",", ";", "\t"):
            if delimiter not in line:
                continue
            try:
                cells = next(csv.reader([line], delimiter=delimiter), [])
            except csv.Error:
                continue
            yield index, delimiter, cells


def _generic_columns(cells: list[str]) -> tuple[int, int] | None:
    """The time and temperature columns of a generic header row, or None when it names either not."""
    lowered = [cell.strip().lower() for cell in cells]
    times = [i for i, cell in enumerate(lowered) if cell in TIME_COLUMNS]
    temperatures = [i for i, cell in enumerate(lowered) if cell in TEMPERATURE_COLUMNS]
    return (times[0], temperatures[0]) if times and temperatures else None


def _data_rows(
    lines: list[str], header: int, delimiter: str, problems: list[_Problem]
) -> Iterator[tuple[int, list[str]]]:
    """(line number in the file, cells) of every row after the header; a row the csv module cannot read ends it."""
    reader = csv.reader(io.StringIO("".join(lines[header + 1 :])), delimiter=delimiter, strict=True)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.append(_Problem(header + 1 + reader.line_num, "readings", f"not a CSV row ({error})"))
            return
        yield header + 1 + reader.line_num, cells


def _reading(line: int, field: str, cells: list[str], layout: _Layout, problems: list[_Problem]) -> Reading | None:
    """One row's reading, or None with its problems noted."""
    if len(cells) <= max(layout.time, layout.temperature):
        problems.append(_Problem(line, field, f"{len(cells)} columns, fewer than the header's time and temperature"))
        return None
    hoboware = layout.hoboware
    zone = hoboware.zone if hoboware is not None else None
    fahrenheit = hoboware is not None and hoboware.fahrenheit
    at = _time(cells[layout.time].strip(), zone, line, f"{field}.timestamp", problems)
    text = cells[layout.temperature].strip()
    celsius = _celsius(text, layout.delimiter, fahrenheit, line, f"{field}.temperature", problems)
    if at is None or celsius is None:
        return None
    return Reading(at, celsius)


def _time(text: str, zone: timezone | None, line: int, field: str, problems: list[_Problem]) -> datetime | None:
    """An ISO 8601 time with its offset, or (``zone`` given) a HOBOware local time placed in the export's zone."""
    try:
        moment = _iso_time(text) if zone is None else local_time(text, zone)
    except ValueError as refused:
        problems.append(_Problem(line, field, str(refused)))
        return None
    try:
        moment.astimezone(UTC)
    except OverflowError:
        problems.append(_Problem(line, field, f"{text!r} falls outside the years 1 to 9999 in UTC"))
        return None
    return moment


def _iso_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time (e.g. 2026-12-01T10:05:00+01:00)") from None
    if moment.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone offset: add one (+01:00 or Z)")
    return moment


def _celsius(
    text: str, delimiter: str, fahrenheit: bool, line: int, field: str, problems: list[_Problem]
) -> float | None:
    candidate = text.replace(",", ".") if delimiter != "," else text
    try:
        value = float(candidate)
    except ValueError:
        problems.append(_Problem(line, field, f"{text!r} is not a temperature in {'°F' if fahrenheit else '°C'}"))
        return None
    if fahrenheit and math.isfinite(value):
        value = celsius_of_fahrenheit(candidate)
    if not math.isfinite(value) or not LOWEST_C <= value <= HIGHEST_C:
        read = f"{text!r} °F ({value:g} °C)" if fahrenheit else repr(text)
        problems.append(_Problem(line, field, f"{read} is outside {LOWEST_C:g} to {HIGHEST_C:g} °C"))
        return None
    return value


def _refuse_problems(problems: list[_Problem]) -> None:
    if not problems:
        return
    shown = "; ".join(problem.describe() for problem in problems[:SHOWN_PROBLEMS])
    more = f"; and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    rows = len({problem.line for problem in problems})
    raise InvalidInput(
        f"the logger file has {rows} bad row{'s' if rows > 1 else ''}: {shown}{more}; nothing was stored",
        field=problems[0].field,
        rule=RULE,
    )

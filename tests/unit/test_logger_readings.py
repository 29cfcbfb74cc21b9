"""A logger's CSV export read into readings: the shapes accepted, and every bad line named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.errors import InvalidInput
from domain.logger_readings import Reading, parse_logger_csv

PARIS = timezone(timedelta(hours=1))


def refused(content: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_logger_csv(content)
    assert caught.value.rule == "invalid_logger_file"
    return caught.value


def test_a_plain_comma_separated_export() -> None:
    content = b"timestamp,temperature\n2026-12-01T10:00:00Z,-180.5\n2026-12-01T10:10:00+00:00,-179\n"
    assert parse_logger_csv(content) == [
        Reading(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), -180.5),
        Reading(datetime(2026, 12, 1, 10, 10, tzinfo=UTC), -179.0),
    ]


def test_a_european_export_with_a_preamble_a_bom_semicolons_and_decimal_commas() -> None:
    content = (
        "\ufeffDevice;LIBERO CS\nSerial;LOG-9120\n\n"
        "Date/Time;Temperature [°C];Alarm\n"
        "2026-12-01T10:00:00+01:00;-150,5;\n"
        "2026-12-01T10:05:00+01:00;4;HIGH\n\n"
    ).encode()
    assert parse_logger_csv(content) == [
        Reading(datetime(2026, 12, 1, 10, 0, tzinfo=PARIS), -150.5),
        Reading(datetime(2026, 12, 1, 10, 5, tzinfo=PARIS), 4.0),
    ]


def test_every_bad_row_is_named_by_its_line_and_reading_and_the_first_is_the_field() -> None:
    content = (
        b"timestamp,temperature\n"  # line 1
        b"2026-12-01T10:00:00Z,-180\n"  # line 2: readings[0]
        b"2026-12-01T10:10:00,-180\n"  # line 3: readings[1], no offset
        b"2026-12-01T10:20:00Z,cold\n"  # line 4: readings[2], not a number
        b"2026-12-01T10:05:00Z,-180\n"  # line 5: readings[3], after the last good one (10:00): fine
        b"2026-12-01T10:05:00Z,-181\n"  # line 6: readings[4], the same moment again
        b"2026-12-01T10:30:00Z,-400\n"  # line 7: readings[5], colder than absolute zero
        b"2026-12-01T10:40:00Z\n"  # line 8: readings[6], one column
    )
    error = refused(content)
    assert error.field == "readings[1].timestamp"
    for fragment in (
        "5 bad rows",
        "line 3 (readings[1].timestamp): '2026-12-01T10:10:00' has no time zone offset",
        "line 4 (readings[2].temperature): 'cold' is not a temperature",
        "line 6 (readings[4].timestamp): 2026-12-01T10:05:00+00:00 is not after the previous reading's",
        "line 7 (readings[5].temperature): '-400' is outside -273.15 to 100 °C",
        "line 8 (readings[6]): 1 columns",
    ):
        assert fragment in error.message, (fragment, error.message)
    assert "line 5" not in error.message


def test_a_row_with_two_bad_cells_is_one_bad_row() -> None:
    error = refused(b"timestamp,temperature\n2026-12-01T10:00:00,warm\n")
    assert "1 bad row:" in error.message and "readings[0].timestamp" in error.message
    assert "readings[0].temperature" in error.message


def test_a_decimal_comma_is_not_guessed_in_a_comma_separated_file() -> None:
    error = refused(b'timestamp,temperature\n2026-12-01T10:00:00Z,"-180,5"\n')
    assert error.field == "readings[0].temperature"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"time;humidity\n2026-12-01T10:00:00Z;40\n", "no header row"),
        (b"Serial LOG-1\n", "no header row"),
        (b"timestamp,temperature\n\n", "no reading"),
        (b"timestamp,temperature\n2026-12-01T10:00:00Z,-180\xff\n", "not UTF-8"),
        (b"timestamp,temperature\n2026-12-01T10:00:00Z,nan\n", "outside"),
    ],
)
def test_files_that_hold_no_readable_reading(content: bytes, said: str) -> None:
    assert said in refused(content).message

"""Onset HOBOware's export table read into readings: the zone of its heading, its US dates, °F, event rows, refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import InvalidInput
from domain.logger_readings import Reading, logger_serial, parse_logger_csv

SENSOR = "(LGR S/N: 20123456, SEN S/N: 20123456)"
EVENTS = (
    '"Coupler Detached (LGR S/N: 20123456)","Coupler Attached (LGR S/N: 20123456)",'
    '"Stopped (LGR S/N: 20123456)","End Of File (LGR S/N: 20123456)"'
)


def hobo(*rows: str, zone: str = "GMT+01:00", temperature: str = f"Temp, °C {SENSOR}") -> bytes:
    """A HOBOware export as File > Export Table Data writes it by default: title, header (line 2), rows from line 3."""
    header = f'"#","Date Time, {zone}","{temperature}",{EVENTS}'
    return "\n".join(['"Plot Title: LN2 shipper 20123456"', header, *rows, ""]).encode()


def refused(content: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        parse_logger_csv(content)
    assert caught.value.rule == "invalid_logger_file"
    return caught.value


def test_the_default_export_is_read_in_the_zone_its_heading_names_without_its_event_rows() -> None:
    content = hobo(
        "1,12/01/26 10:00:00 AM,-185.2,,,,",
        "2,12/01/26 10:05:00 AM,-184.9,,,,",
        "3,12/01/26 10:07:12 AM,,Logged,,,",
        "4,12/01/26 10:10:00 AM,-184.0,,Logged,,",  # a reading that also marks an event is a reading
        "5,12/01/26 01:10:00 PM,-183.5,,,,",
        "6,12/01/26 03:40:00 PM,,,,Logged,Logged",
    )
    assert parse_logger_csv(content) == [
        Reading(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), -185.2),
        Reading(datetime(2026, 12, 1, 9, 5, tzinfo=UTC), -184.9),
        Reading(datetime(2026, 12, 1, 9, 10, tzinfo=UTC), -184.0),
        Reading(datetime(2026, 12, 1, 12, 10, tzinfo=UTC), -183.5),
    ]


def test_midnight_and_noon_on_the_twelve_hour_clock() -> None:
    content = hobo(
        "1,12/01/26 12:00:00 AM,-180,,,,",
        "2,12/01/26 12:30:00 AM,-180,,,,",
        "3,12/01/26 01:00:00 AM,-180,,,,",
        "4,12/01/26 11:59:59 AM,-180,,,,",
        "5,12/01/26 12:00:00 PM,-180,,,,",
        "6,12/01/26 12:30:00 PM,-180,,,,",
        "7,12/01/26 11:00:00 PM,-180,,,,",
        zone="GMT+00:00",
    )
    assert [reading.at for reading in parse_logger_csv(content)] == [
        datetime(2026, 12, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 11, 59, 59, tzinfo=UTC),
        datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 12, 30, tzinfo=UTC),
        datetime(2026, 12, 1, 23, 0, tzinfo=UTC),
    ]


def test_the_24_hour_clock_four_digit_years_and_a_zone_west_of_greenwich() -> None:
    content = hobo("1,12/31/2026 22:00:00,-180,,,,", "2,01/01/27 00:10:00,-179.5,,,,", zone="GMT-04:00")
    assert parse_logger_csv(content) == [
        Reading(datetime(2027, 1, 1, 2, 0, tzinfo=UTC), -180.0),
        Reading(datetime(2027, 1, 1, 4, 10, tzinfo=UTC), -179.5),
    ]


def test_fahrenheit_is_converted_exactly() -> None:
    content = hobo(
        "1,12/01/26 10:00:00 AM,-297.4,,,,",  # (-297.4 - 32) × 5/9 = -183
        "2,12/01/26 10:05:00 AM,-292,,,,",  # -180
        "3,12/01/26 10:10:00 AM,32,,,,",  # 0
        "4,12/01/26 10:15:00 AM,-459.67,,,,",  # absolute zero, -273.15
        "5,12/01/26 10:20:00 AM,41.9,,,,",  # 5.5
        zone="GMT+00:00",
        temperature=f"Temp, °F {SENSOR}",
    )
    assert [reading.celsius for reading in parse_logger_csv(content)] == [-183.0, -180.0, 0.0, -273.15, 5.5]


def test_the_celsius_column_is_read_when_the_export_shows_both_units() -> None:
    header = f'"#","Date Time, GMT+00:00","Temp, °F {SENSOR}","Temp, °C {SENSOR}","Stopped (LGR S/N: 20123456)"'
    content = f"{header}\n1,12/01/26 10:00:00 AM,-297.4,-183.1,\n2,12/01/26 10:05:00 AM,,,Logged\n".encode()
    assert parse_logger_csv(content) == [Reading(datetime(2026, 12, 1, 10, 0, tzinfo=UTC), -183.1)]


def test_a_semicolon_separated_export_with_decimal_commas() -> None:
    content = (
        f'"Plot Title: LN2 shipper"\n"#";"Date Time, GMT+02:00";"Temp, °C {SENSOR}";"Stopped (LGR S/N: 20123456)"\n'
        "1;12/01/26 10:00:00 AM;-185,2;\n2;12/01/26 10:05:00 AM;;Logged\n"
    ).encode()
    assert parse_logger_csv(content) == [Reading(datetime(2026, 12, 1, 8, 0, tzinfo=UTC), -185.2)]


def test_a_tab_separated_export() -> None:
    content = (
        f'"#"\t"Date Time, GMT+01:00"\t"Temp, °C {SENSOR}"\t"Stopped (LGR S/N: 20123456)"\n'
        "1\t12/01/26 10:00:00 AM\t-185.2\t\n2\t12/01/26 10:05:00 AM\t\tLogged\n"
    ).encode()
    assert parse_logger_csv(content) == [Reading(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), -185.2)]


def test_event_rows_are_not_counted_as_readings_when_a_bad_row_is_named() -> None:
    content = hobo(
        "1,12/01/26 10:00:00 AM,-185.2,,,,",  # line 3: readings[0]
        "2,12/01/26 10:02:00 AM,,Logged,,,",  # line 4: an event
        "3,12/01/26 10:05:00 AM,cold,,,,",  # line 5: readings[1]
    )
    error = refused(content)
    assert error.field == "readings[1].temperature"
    assert "line 5 (readings[1].temperature): 'cold' is not a temperature in °C" in error.message


def test_an_empty_temperature_without_an_event_is_still_refused() -> None:
    content = hobo("1,12/01/26 10:00:00 AM,-185.2,,,,", "2,12/01/26 10:05:00 AM,,,,,")
    error = refused(content)
    assert error.field == "readings[1].temperature"
    assert "line 4 (readings[1].temperature): '' is not a temperature in °C" in error.message


def test_a_row_measuring_something_else_is_not_an_event_even_beside_one() -> None:
    header = f'"#","Date Time, GMT+00:00","Temp, °C {SENSOR}","RH, % {SENSOR}","Stopped (LGR S/N: 20123456)"'
    content = f"{header}\n1,12/01/26 10:00:00 AM,,45.1,Logged\n".encode()
    assert refused(content).field == "readings[0].temperature"


def test_fahrenheit_beyond_what_a_logger_can_read_is_refused_in_both_units() -> None:
    content = hobo("1,12/01/26 10:00:00 AM,-500,,,,", temperature=f"Temp, °F {SENSOR}")
    error = refused(content)
    assert error.field == "readings[0].temperature"
    assert "'-500' °F (-295.556 °C) is outside -273.15 to 100 °C" in error.message


@pytest.mark.parametrize(
    "written",
    [
        "2026-12-01T10:00:00+01:00",  # ISO: another layout's time
        "2026/12/01 10:00:00",  # year first
        "12.01.26 10:00:00",  # another date separator
        "12/01/26 10:00 AM",  # no seconds
        "12/01/26",  # no time
        "13/01/26 10:00:00 AM",  # day first: there is no 13th month
        "02/30/26 10:00:00 AM",  # 30 February
        "12/01/26 00:30:00 AM",  # no hour 0 on a 12-hour clock
        "12/01/26 13:00:00 PM",
        "12/01/26 24:00:00",
        "12/01/126 10:00:00",  # a three-digit year
    ],
)
def test_any_other_date_shape_is_refused_with_its_line_and_the_format_to_export(written: str) -> None:
    content = hobo("1,12/01/26 09:00:00 AM,-185.2,,,,", f"2,{written},-185.2,,,,")
    error = refused(content)
    assert error.field == "readings[1].timestamp"
    assert error.message.startswith("the logger file has 1 bad row: line 4 (readings[1].timestamp):"), error.message
    assert "export them as MM/DD/YY hh:mm:ss AM/PM (or its 24-hour form), month first" in error.message


@pytest.mark.parametrize(
    ("header", "said"),
    [
        (f'"#","Date Time","Temp, °C {SENSOR}"', "names no offset from GMT, so its times cannot be placed"),
        (f'"#","Date Time, Europe/Paris","Temp, °C {SENSOR}"', "names no offset from GMT"),
        (f'"#","Date Time, GMT+1","Temp, °C {SENSOR}"', "names no offset from GMT"),
        (f'"#","Date Time, GMT+15:00","Temp, °C {SENSOR}"', "no civil offset"),
        (f'"#","Date","Time, GMT+01:00","Temp, °C {SENSOR}"', "the date and the time in one column"),
        (f'"#","Date Time, GMT+01:00","Date Time, GMT+02:00","Temp, °C {SENSOR}"', "2 'Date Time' columns"),
        (
            '"#","Date Time, GMT+01:00","Temp, °C (LGR S/N: 1, SEN S/N: 2)","Temp, °C (LGR S/N: 1, SEN S/N: 3)"',
            "the temperatures of 2 sensors",
        ),
    ],
)
def test_a_header_whose_times_or_temperature_cannot_be_read_is_refused(header: str, said: str) -> None:
    error = refused(f"{header}\n1,12/01/26 10:00:00 AM,-185.2,-185.0\n".encode())
    assert error.field == "readings"
    assert said in error.message, error.message


def test_the_logger_serial_is_the_one_the_temperature_heading_names() -> None:
    assert logger_serial(hobo("1,12/01/26 10:00:00 AM,-185.2,,,,")) == "20123456"
    label = "Temp, °C (LGR S/N: 10987654, SEN S/N: 10987655, LBL: probe)"
    assert logger_serial(hobo("1,12/01/26 10:00:00 AM,-185.2,,,,", temperature=label)) == "10987654"
    without_zone = f'"#","Date Time","Temp, °C {SENSOR}"\n'.encode()  # refused by parse, yet it names its logger
    assert logger_serial(without_zone) == "20123456"


@pytest.mark.parametrize(
    "content",
    [
        b'"#","Date Time, GMT+01:00","Temp, \xc2\xb0C"\n1,12/01/26 10:00:00 AM,-185.2\n',  # no serial in the heading
        b"Serial;LOG-9120\nDate/Time;Temperature [\xc2\xb0C]\n2026-12-01T10:00:00+01:00;-150,5\n",  # generic layout
        b"Serial LOG-1\n",
        b'"#","Date Time, GMT+01:00","Temp, \xb0C (LGR S/N: 20123456)"\n',  # Windows-1252, not UTF-8
    ],
)
def test_a_file_whose_header_names_no_logger_serial(content: bytes) -> None:
    assert logger_serial(content) is None

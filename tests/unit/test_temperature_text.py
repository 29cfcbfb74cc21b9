"""The terminal's one-line temperature chart and the standalone SVG, on hand-made journeys."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.temperature_svg import svg_document
from api.temperature_text import chart_line, sparkline
from api.web.temperature_chart import layout, slug
from domain.errors import InvalidInput
from domain.logger_journey import Journey
from domain.logger_readings import Reading

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"


def trip(*readings: tuple[int, float], hours: int = 1) -> Journey:
    """A journey of ``hours`` from START, with a reading (minute after START, °C) for each pair."""
    held = tuple(Reading(START + timedelta(minutes=minute), celsius) for minute, celsius in readings)
    return Journey(START, START + timedelta(hours=hours), held)


def test_each_column_shows_the_reading_held_at_its_middle_on_a_scale_from_lowest_to_highest() -> None:
    # 6 columns of 10 min sampled at minute 5, 15, …, 55: -180 (held from before dispatch) until 20, -130 until 40,
    # then -170, one seventh of the way from -180 to -130 rounded to the nearest of the 8 blocks: ▂.
    journey = trip((-5, -180.0), (20, -130.0), (40, -170.0))
    assert sparkline(journey, 6) == "▁▁██▂▂"
    assert chart_line(journey, 6) == "▁▁██▂▂  ▁ -180 °C … █ -130 °C"


def test_a_reading_exactly_at_a_column_middle_is_already_held_there() -> None:
    assert sparkline(trip((0, -190.0), (15, -150.0)), 6) == "▁█████"


def test_columns_before_the_first_reading_are_blank_since_nothing_was_known_then() -> None:
    assert sparkline(trip((20, -180.0), (30, -160.0), (50, -170.0)), 6) == "  ▁██▅"


def test_a_steady_temperature_is_a_flat_line_at_the_bottom() -> None:
    assert sparkline(trip((0, -185.5), (30, -185.5)), 4) == "▁▁▁▁"


def test_sixty_columns_by_default() -> None:
    assert sparkline(trip((0, -180.0), (30, -120.0))) == "▁" * 30 + "█" * 30


def test_a_chart_needs_a_column() -> None:
    with pytest.raises(InvalidInput) as refused:
        sparkline(trip((0, -180.0)), 0)
    assert (refused.value.field, refused.value.rule) == ("columns", "at_least_one")


def chart(journey: Journey, logger: str) -> dict[str, Any]:
    """A chart dict as api/web/temperature_chart.py builds it, for a product allowed ≤ -150 °C."""
    start, end = START + timedelta(minutes=25), START + timedelta(minutes=40)
    gaps = [{"from_at": start.isoformat(), "to_at": end.isoformat(), "minutes": 15}]
    return {
        "title": "Temperature in transport",
        "data_logger_id": logger,
        "from_local": "02/03/2026 09:00",
        "to_local": "02/03/2026 10:00",
        "min_c": -180.0,
        "max_c": -130.0,
        "product": {"acceptable": "≤ -150 °C", "minutes_outside": 15, "excursion": True},
        "svg": layout(journey, None, -150.0, gaps),
    }


def test_the_svg_is_a_document_with_a_step_per_reading_the_limit_dashed_and_its_text_escaped() -> None:
    journey = trip((-5, -180.0), (20, -130.0), (40, -170.0))
    text = svg_document(chart(journey, 'LOG <9120> & "B"'))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    root = ET.fromstring(text)
    assert root.findtext(f"{SVG}title") == 'Temperature in transport, data logger LOG <9120> & "B"'
    assert root.findtext(f"{SVG}desc") == (
        "02/03/2026 09:00 → 02/03/2026 10:00; lowest and highest -180 / -130 °C; allowed range ≤ -150 °C; "
        "time outside the range 15 min (excursion)"
    )
    [line] = root.iter(f"{SVG}polyline")
    assert len(line.attrib["points"].split()) == 2 * 3
    dashed = [e for e in root.iter(f"{SVG}line") if e.get("stroke-dasharray") == "6 4"]
    assert [e.findtext(f"{SVG}title") for e in dashed] == ["-150 °C"]
    [gap] = [e for e in root.iter(f"{SVG}rect") if e.get("class") == "gap"]
    # 640 wide, 56 left and 12 right margins: minute 25 of 60 at 56 + 572 × 25/60, 15 min wide.
    assert (gap.get("x"), gap.get("width")) == ("294.3", "143.0")
    labels = [e.text for e in root.iter(f"{SVG}text")]
    assert labels[-2:] == ["02/03/2026 09:00", "02/03/2026 10:00"]


def test_a_chart_without_a_drawing_is_refused_naming_the_file() -> None:
    unreadable = {**chart(trip((0, -180.0)), "LOG-1"), "svg": None}
    with pytest.raises(InvalidInput) as refused:
        svg_document(unreadable)
    assert (refused.value.field, refused.value.rule) == ("document_sha256", "logger_file_unreadable")


def test_a_chart_slug_keeps_letters_digits_and_dashes_only() -> None:
    assert slug("3f0a-R 3-B/12-A1") == "3f0a-R_3-B_12-A1"  # an HTML id and a file name: no space, no slash

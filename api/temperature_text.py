"""A product's temperature history in the terminal: the signed figures of each leg and a one-line chart.

`custody status` prints it after the product's state (api/cli_projections.py), from the
same chart data as the product page (api/web/temperature_chart.py). The one-line chart
samples the temperature the ledger takes the shipper to have held (sample and hold, as
domain/logger_journey.py counts time outside a range) at the middle of each column: a
block per column, lowest reading ``▁`` to highest ``█``, with that scale printed beside
it. Before the first reading nothing is known, so the column is blank rather than a guess.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from domain.logger_journey import Journey

BLOCKS = "▁▂▃▄▅▆▇█"
COLUMNS = 60
UNKNOWN = " "
UNREADABLE = (
    "chart cannot be drawn: the logger file cannot be read back from the document store (missing or altered); "
    "run `custody verify`"
)


def sparkline(trip: Journey, columns: int = COLUMNS) -> str:
    """The held temperature at the middle of each of ``columns`` equal slices of the journey, as blocks."""
    if columns < 1:
        raise InvalidInput(f"a chart needs at least one column, not {columns}", field="columns", rule="at_least_one")
    low, high = temperature_scale(trip)
    times = [reading.at for reading in trip.readings]
    span = trip.end - trip.start
    line = []
    for column in range(columns):
        moment = trip.start + span * (2 * column + 1) / (2 * columns)
        index = bisect.bisect_right(times, moment) - 1
        if index < 0:
            line.append(UNKNOWN)
            continue
        share = 0.0 if high == low else (trip.readings[index].celsius - low) / (high - low)
        line.append(BLOCKS[int(share * (len(BLOCKS) - 1) + 0.5)])
    return "".join(line)


def temperature_scale(trip: Journey) -> tuple[float, float]:
    """The lowest and highest reading the journey holds: the ``▁`` and ``█`` of its sparkline."""
    values = [reading.celsius for reading in trip.readings]
    return min(values), max(values)


def chart_line(trip: Journey, columns: int = COLUMNS) -> str:
    """The sparkline with its scale beside it."""
    low, high = temperature_scale(trip)
    return f"{sparkline(trip, columns)}  {BLOCKS[0]} {low:g} °C … {BLOCKS[-1]} {high:g} °C"


def temperature_lines(charts: Sequence[dict[str, Any]], zone_name: str, svg_paths: Sequence[Path | None]) -> list[str]:
    """The "temperature" section of `custody status`: nothing at all when no logger file was imported."""
    if not charts:
        return []
    lines = [f"  temperature ({len(charts)} logger file(s); local times {zone_name}):"]
    for chart, svg_path in zip(charts, svg_paths, strict=True):
        lines += _leg_lines(chart, svg_path)
    return lines


def _leg_lines(chart: dict[str, Any], svg_path: Path | None) -> list[str]:
    mine = chart["product"]
    verdict = "EXCURSION" if mine["excursion"] else "within range"
    lines = [
        f"    {chart['title'][:1].lower()}{chart['title'][1:]} ({_where(chart)}): logger {chart['data_logger_id']}",
        f"      {'covered' if chart['source'] == 'storage' else 'journey'} {chart['from_local']} → {chart['to_local']}",
        f"      {chart['readings']} readings, lowest {chart['min_c']:g} °C, highest {chart['max_c']:g} °C, "
        f"allowed {mine['acceptable']}",
        f"      {mine['minutes_outside']} min outside the range — {verdict}",
        f"      {_gaps(chart)}",
        f"      logger file sha256 {chart['sha256']}",
    ]
    if chart["journey"] is None:
        return [*lines, f"      {UNREADABLE}"]
    lines.append(f"      {chart_line(chart['journey'])}")
    if svg_path is not None:
        lines.append(f"      chart written to {svg_path}")
    return lines


def _where(chart: dict[str, Any]) -> str:
    """The shipment of a leg, or the tank position of a storage stay."""
    return str(chart.get("place") or f"{chart['source']} {chart['aggregate_id']}")


def _gaps(chart: dict[str, Any]) -> str:
    allowed = chart["product"].get("gap_allowed_min")
    limit = "gaps over the limit" if allowed is None else f"gaps over the {allowed} min allowed"
    found = "; ".join(f"from {gap['from_local']} ({gap['minutes']} min)" for gap in chart["gaps"])
    return f"{limit}: {found or 'none'}"


def temperature_json(chart: dict[str, Any], svg_path: Path | None) -> dict[str, Any]:
    """One leg as `custody status --json` prints it: the signed summary's fields, and the SVG written if any."""
    leg = {
        "source": chart["source"],
        "aggregate_id": chart["aggregate_id"],
        **({"shipment_id": chart["shipment_id"]} if "shipment_id" in chart else {}),
        "document_sha256": chart["sha256"],
        "data_logger_id": chart["data_logger_id"],
        "from_at": chart["from_at"],
        "to_at": chart["to_at"],
        "readings": chart["readings"],
        "min_c": chart["min_c"],
        "max_c": chart["max_c"],
        "longest_gap_min": chart["longest_gap_min"],
        "product": chart["product"],
        "chart_drawable": chart["journey"] is not None,
    }
    return leg if svg_path is None else {**leg, "svg_path": str(svg_path)}

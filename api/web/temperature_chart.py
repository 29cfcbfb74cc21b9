"""The temperature a product's shipper held on each journey, as an SVG step chart on the product page.

Drawn from the logger file itself (read back from the document store and checked
against its hash) over the journey the ledger judged, with the product's limits and the
gaps the ledger found, beside the ledger's signed figures: the chart shows what the
ledger read, and the figures are what it signed (``ShipmentReadingsSummarised``). Sample
and hold, as the ledger counts time outside the range (domain/logger_journey.py): each
reading is a flat step until the next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from api.rest.context import ApiContext
from api.web.charts import nice_step
from api.web.views import local_time, zone
from domain.logger_journey import Journey, journey
from domain.logger_readings import parse_logger_csv
from ledger.clock import parse_instant

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


def temperature_charts(ctx: ApiContext, product_id: UUID) -> list[dict[str, Any]]:
    """One chart per logger file imported for a shipment this product travelled in, oldest first."""
    shipments = [e.body["payload"]["shipment_id"] for e in ctx.ledger.history(product_id) if e.type == "ProductShipped"]
    charts = []
    for shipment in dict.fromkeys(shipments):
        for envelope in ctx.ledger.history(UUID(shipment)):
            if envelope.type != "ShipmentReadingsSummarised":
                continue
            chart = _chart(ctx, shipment, dict(envelope.body["payload"]), str(product_id))
            if chart is not None:
                charts.append(chart)
    return charts


def _chart(ctx: ApiContext, shipment: str, summary: dict[str, Any], product_id: str) -> dict[str, Any] | None:
    mine = next((p for p in summary["products"] if p["product_id"] == product_id), None)
    content = ctx.ledger.documents.readable(str(summary["document_sha256"]))
    if mine is None:
        return None
    start, end = parse_instant(str(summary["from_at"])), parse_instant(str(summary["to_at"]))
    trip = journey(parse_logger_csv(content), start, end) if content is not None else None
    tz = zone(ctx)
    return {
        "shipment_id": shipment,
        "sha256": summary["document_sha256"],
        "data_logger_id": summary["data_logger_id"],
        "from_local": local_time(start, tz),
        "to_local": local_time(end, tz),
        "min_c": summary["min_c"],
        "max_c": summary["max_c"],
        "readings": summary["readings"],
        "product": mine,
        "gaps": [{**gap, "from_local": local_time(parse_instant(gap["from_at"]), tz)} for gap in mine["gaps"]],
        "svg": None if trip is None else layout(trip, mine.get("low_c"), mine.get("high_c"), mine["gaps"]),
    }


def layout(trip: Journey, low_c: float | None, high_c: float | None, gaps: list[dict[str, Any]]) -> dict[str, Any]:
    """Coordinates of the step line, the limits, the gaps and the axis ticks, in a WIDTH × HEIGHT box."""
    values = [reading.celsius for reading in trip.readings] + [v for v in (low_c, high_c) if v is not None]
    step = nice_step(max(values) - min(values) or 10.0, 4)
    bottom_c = step * ((min(values) // step) - (1 if min(values) % step == 0 else 0))
    top_c = step * (max(values) // step + 1)
    span = (trip.end - trip.start).total_seconds() or 1.0

    def x(moment: datetime) -> float:
        seconds = (max(moment, trip.start) - trip.start).total_seconds()
        return round(LEFT + (WIDTH - LEFT - RIGHT) * min(seconds, span) / span, 1)

    def y(celsius: float) -> float:
        return round(TOP + (HEIGHT - TOP - BOTTOM) * (top_c - celsius) / (top_c - bottom_c), 1)

    points: list[str] = []
    stops = [*(reading.at for reading in trip.readings[1:]), trip.end]
    for reading, until in zip(trip.readings, stops, strict=True):
        points += [f"{x(reading.at)},{y(reading.celsius)}", f"{x(until)},{y(reading.celsius)}"]
    ticks = []
    value = bottom_c
    while value <= top_c + step / 2:
        ticks.append({"y": y(value), "label": f"{value:g}"})
        value += step
    limits = [{"y": y(v), "label": f"{v:g} °C"} for v in (low_c, high_c) if v is not None]
    shaded = []
    for gap in gaps:
        left, right = x(parse_instant(gap["from_at"])), x(parse_instant(gap["to_at"]))
        shaded.append({"x": left, "width": round(right - left, 1)})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "points": " ".join(points),
        "ticks": ticks,
        "limits": limits,
        "gaps": shaded,
    }

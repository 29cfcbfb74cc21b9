"""The temperature a product's shipper held on each journey, as an SVG step chart on the product page.

Drawn from the logger file itself (read back from the document store and checked
against its hash) over the journey the ledger judged, with the product's limits and the
gaps the ledger found, beside the ledger's signed figures: the chart shows what the
ledger read, and the figures are what it signed (``ShipmentReadingsSummarised``). Sample
and hold, as the ledger counts time outside the range (domain/logger_journey.py): each
reading is a flat step until the next.

The chart data needs only the ledger and the site's time zone, not the web request, so
`custody status` draws the same charts (api/temperature_svg.py, api/temperature_text.py).
Each kind of signed summary is read by its own source function listed in ``SOURCES``;
a new kind of summary is one more such function, and every reader of the charts gets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from typing import Any
from uuid import UUID

from api.web.charts import nice_step
from api.web.i18n import DEFAULT, when
from domain.errors import InvalidInput
from domain.logger_journey import Journey, journey
from domain.logger_readings import parse_logger_csv
from ledger.clock import parse_instant
from ledger.envelope import Envelope
from ledger.service import CustodyLedger

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


ChartSource = Callable[[CustodyLedger, UUID, tzinfo, datetime | None], list[dict[str, Any]]]
"""Charts of one kind of signed summary for a product: (ledger, product, display zone, recorded by) → charts."""


def temperature_charts(
    ledger: CustodyLedger, product_id: UUID, tz: tzinfo, *, recorded_by: datetime | None = None
) -> list[dict[str, Any]]:
    """Every chart of the product, source after source, each source's oldest first.

    ``recorded_by`` keeps only the summaries the ledger had recorded by then, so a replay
    "as of" a moment shows what the ledger knew at that moment, not what it learnt since.
    """
    return [chart for source in SOURCES for chart in source(ledger, product_id, tz, recorded_by)]


def shipment_charts(
    ledger: CustodyLedger, product_id: UUID, tz: tzinfo, recorded_by: datetime | None
) -> list[dict[str, Any]]:
    """One chart per logger file imported for a shipment this product travelled in, oldest first."""
    product_events = _recorded(ledger.history(product_id), recorded_by)
    shipments = [e.body["payload"]["shipment_id"] for e in product_events if e.type == "ProductShipped"]
    charts = []
    for shipment in dict.fromkeys(shipments):
        for envelope in _recorded(ledger.history(UUID(shipment)), recorded_by):
            if envelope.type != "ShipmentReadingsSummarised":
                continue
            summary = dict(envelope.body["payload"])
            mine = next((p for p in summary["products"] if p["product_id"] == str(product_id)), None)
            if mine is not None:
                source = {"source": "shipment", "title": "Temperature in transport", "aggregate_id": shipment}
                charts.append({**_chart(ledger, summary, mine, tz), **source, "shipment_id": shipment})
    return charts


def storage_charts(
    ledger: CustodyLedger, product_id: UUID, tz: tzinfo, recorded_by: datetime | None
) -> list[dict[str, Any]]:
    """One chart per stay a tank's logger file was judged over (``StorageReadingsSummarised``), oldest first.

    A stay's chart spans the stretch the file covered; the limit is the product's storage
    limit; the minutes outside and the gaps are the stay's own, as the ledger signed them.
    """
    charts = []
    for envelope in _recorded(ledger.history(product_id), recorded_by):
        if envelope.type != "StorageReadingsSummarised":
            continue
        summary = dict(envelope.body["payload"])
        for stay in summary["stays"]:
            place = f"tank {summary['tank']} rack {stay['rack']} box {stay['box']} position {stay['position']}"
            mine = {
                "product_id": str(product_id),
                "acceptable": summary["acceptable"],
                "low_c": None,
                "high_c": summary["high_c"],
                "minutes_outside": stay["minutes_outside"],
                "excursion": stay["minutes_outside"] > 0 or (len(summary["stays"]) == 1 and summary["excursion"]),
                "gap_allowed_min": summary["gap_allowed_min"],
                "gaps": stay["gaps"],
            }
            figures = {
                **summary, "from_at": stay["from_at"], "to_at": stay["to_at"], "readings": stay["readings"],
                "data_logger_id": f"tank {summary['tank']} ({summary['site']})",
            }  # fmt: skip
            source = {
                "source": "storage", "title": "Temperature in LN2 storage", "aggregate_id": str(product_id),
                "place": place, "tank": summary["tank"], "rack": stay["rack"], "box": stay["box"],
                "position": stay["position"],
                "slug": slug(f"{product_id}-{stay['rack']}-{stay['box']}-{stay['position']}"),
            }  # fmt: skip
            charts.append({**_chart(ledger, figures, mine, tz), **source})
    return charts


SOURCES: tuple[ChartSource, ...] = (shipment_charts, storage_charts)


def slug(text: str) -> str:
    """Letters, digits and dashes only: a chart's HTML id and its SVG file name (a position may hold a space)."""
    return "".join(char if char.isalnum() or char == "-" else "_" for char in text)


def _recorded(envelopes: Iterable[Envelope], recorded_by: datetime | None) -> list[Envelope]:
    """The envelopes the ledger had stored by ``recorded_by`` (all of them when None)."""
    return [e for e in envelopes if recorded_by is None or e.recorded_at <= recorded_by]


def _chart(ledger: CustodyLedger, summary: dict[str, Any], mine: dict[str, Any], tz: tzinfo) -> dict[str, Any]:
    """The signed figures of one summary for one product, and the drawing when the logger file reads back.

    ``journey`` and ``svg`` are None when the file is missing from the document store, no
    longer matches its hash, or no longer reads: the signed figures still show, and
    `custody verify` says what happened to the file.
    """
    start, end = parse_instant(str(summary["from_at"])), parse_instant(str(summary["to_at"]))
    trip = _journey(ledger, str(summary["document_sha256"]), start, end)
    return {
        "sha256": summary["document_sha256"],
        "data_logger_id": summary["data_logger_id"],
        "from_at": summary["from_at"],
        "to_at": summary["to_at"],
        "from_local": _local(start, tz),
        "to_local": _local(end, tz),
        "min_c": summary["min_c"],
        "max_c": summary["max_c"],
        "readings": summary["readings"],
        "longest_gap_min": summary.get("longest_gap_min"),
        "product": mine,
        "gaps": [{**gap, "from_local": _local(parse_instant(gap["from_at"]), tz)} for gap in mine["gaps"]],
        "journey": trip,
        "svg": None if trip is None else layout(trip, mine.get("low_c"), mine.get("high_c"), mine["gaps"]),
    }


def _journey(ledger: CustodyLedger, sha256: str, start: datetime, end: datetime) -> Journey | None:
    content = ledger.documents.readable(sha256)
    if content is None:
        return None
    try:
        return journey(parse_logger_csv(content), start, end)
    except InvalidInput:
        return None  # read and judged at import, refused now: the reader changed since, the signed figures stand


def _local(moment: datetime, tz: tzinfo) -> str:
    """An instant as the site reads it, the way the product page prints it (api/web/i18n.py)."""
    return when(moment, tz, DEFAULT)


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

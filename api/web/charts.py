"""Hand-made SVG for the web pages: turnaround bar charts and a product's vein-to-vein timeline.

No JavaScript charting library: the server writes the SVG, so a chart is in the page
as soon as it loads, prints, and is read by a screen reader through its title and
description (each chart also sits beside a table with the same figures). Every text
that goes into the SVG is escaped here, since the result is marked safe for Jinja2.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from itertools import pairwise
from typing import Any

from markupsafe import Markup

SECONDS_PER_DAY = 86400.0
NumberFormat = Callable[[float], str]


def format_days(value: float | None, lang: str = "en") -> str:
    """Days with one decimal, in the page's language (a decimal comma in French); "—" when unknown."""
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "fr" else text


@dataclass(frozen=True)
class RangeBar:
    """One row of a turnaround chart: a group, its median as a bar and its min–max as a whisker."""

    label: str
    sublabel: str
    median: float | None
    low: float | None
    high: float | None
    count: int


def nice_step(span: float, ticks: int = 5) -> float:
    """A round tick interval (1, 2 or 5 × 10ⁿ) giving about ``ticks`` intervals over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def range_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[RangeBar],
    *,
    unit: str,
    no_data: str,
    number: NumberFormat,
) -> Markup:
    """A horizontal bar chart: median bar, min–max whisker and the figures written beside each row."""
    width, left, right_text = 760, 250, 150
    plot = width - left - right_text
    top, row_height, bottom = 16, 46, 34
    height = top + row_height * max(1, len(bars)) + bottom
    highs = [bar.high for bar in bars if bar.high is not None]
    step = nice_step(max(highs) if highs else 1.0)
    scale_max = step * max(1, math.ceil((max(highs) if highs else 1.0) / step))

    def x(value: float) -> float:
        return round(left + plot * max(0.0, value) / scale_max, 1)

    axis_y = top + row_height * max(1, len(bars))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    tick = 0.0
    while tick <= scale_max + 1e-9:
        tx = x(tick)
        parts.append(f'<line x1="{tx}" y1="{top - 4}" x2="{tx}" y2="{axis_y}" stroke="#d5d9e0" stroke-width="1"/>')
        parts.append(
            f'<text x="{tx}" y="{axis_y + 16}" text-anchor="middle" font-size="12" fill="#333">'
            f"{escape(number(tick))}</text>"
        )
        tick += step
    parts.append(
        f'<text x="{left + plot / 2}" y="{axis_y + 31}" text-anchor="middle" font-size="12" fill="#333">'
        f"{escape(unit)}</text>"
    )
    parts.append(f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{axis_y}" stroke="#333" stroke-width="1"/>')
    for index, bar in enumerate(bars):
        y = top + row_height * index
        middle = y + row_height / 2
        parts.append(
            f'<text x="{left - 8}" y="{middle - 3}" text-anchor="end" font-size="13" font-weight="600" fill="#111">'
            f"{escape(_shorten(bar.label, 34))}</text>"
        )
        parts.append(
            f'<text x="{left - 8}" y="{middle + 13}" text-anchor="end" font-size="11" fill="#333">'
            f"<title>{escape(bar.sublabel)}</title>{escape(_shorten(bar.sublabel, 38))}</text>"
        )
        if bar.median is None or bar.low is None or bar.high is None:
            parts.append(
                f'<text x="{left + 8}" y="{middle + 4}" font-size="12" font-style="italic" fill="#333">'
                f"{escape(no_data)}</text>"
            )
            continue
        parts.append(
            f'<rect class="bar" x="{left}" y="{middle - 9}" width="{max(1.0, x(bar.median) - left)}" height="18" '
            f'fill="#0b4f8a" data-median="{bar.median}"/>'
        )
        low, high = x(bar.low), x(bar.high)
        parts.append(f'<line x1="{low}" y1="{middle}" x2="{high}" y2="{middle}" stroke="#f5a300" stroke-width="3"/>')
        for end in (low, high):
            parts.append(
                f'<line x1="{end}" y1="{middle - 8}" x2="{end}" y2="{middle + 8}" stroke="#f5a300" stroke-width="3"/>'
            )
        figures = f"{number(bar.median)} ({number(bar.low)}–{number(bar.high)})"
        parts.append(
            f'<text x="{max(high, x(bar.median)) + 8}" y="{middle + 4}" font-size="12" fill="#111">'
            f"{escape(figures)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# -- a product's vein-to-vein timeline ---------------------------------------------------------------

MILESTONES = (("collection", "first_collection_at"), ("release", "released_at"), ("infusion", "infused_at"))
TIMELINE_WIDTH, TIMELINE_HEIGHT, TIMELINE_LEFT, TIMELINE_RIGHT = 640, 150, 40, 600
MIN_SHARE = 0.22
"""Each interval gets at least this share of the line, so close milestones keep readable labels."""


def interval_shares(gaps: list[float], least: float = MIN_SHARE) -> list[float]:
    """Each interval's share of the line: proportional to its length, but never less than ``least``."""
    if not gaps:
        return []
    if least * len(gaps) >= 1:
        return [1 / len(gaps)] * len(gaps)
    lengths = [max(0.0, gap) for gap in gaps]
    floored: set[int] = set()
    while True:
        free = [i for i in range(len(gaps)) if i not in floored]
        room = 1 - least * len(floored)
        total = sum(lengths[i] for i in free)
        shares = [
            least if i in floored else (lengths[i] / total * room if total else room / len(free))
            for i in range(len(gaps))
        ]
        short = {i for i in free if shares[i] < least}
        if not short:
            return shares
        floored |= short


def vein_to_vein_layout(times: dict[str, datetime | None], local: Callable[[datetime], str]) -> dict[str, Any] | None:
    """Milestones (known or not), the days between consecutive known ones, and where each sits on the line.

    ``times`` maps collection, release and infusion to their instants; None when there is none yet.
    """
    milestones: list[dict[str, Any]] = [
        {"key": key, "at": times.get(key), "local": None, "x": None} for key, _ in MILESTONES
    ]
    known = [m for m in milestones if m["at"] is not None]
    if not known:
        return None
    collected, infused = times.get("collection"), times.get("infusion")
    vein_days = None if collected is None or infused is None else (infused - collected).total_seconds()
    gaps = [(later["at"] - earlier["at"]).total_seconds() / SECONDS_PER_DAY for earlier, later in pairwise(known)]
    shares = interval_shares(gaps)
    span = TIMELINE_RIGHT - TIMELINE_LEFT
    position = float(TIMELINE_LEFT)
    for index, milestone in enumerate(known):
        milestone["local"] = local(milestone["at"])
        milestone["at"] = milestone["at"].isoformat()
        if index:
            position += span * shares[index - 1]
        milestone["x"] = round(position, 1)
        milestone["anchor"] = "start" if index == 0 else ("end" if index == len(known) - 1 else "middle")
        milestone["above"] = index % 2 == 0
    segments = [
        {
            "start": earlier["key"],
            "end": later["key"],
            "days": round(gap, 2),
            "x1": earlier["x"],
            "x2": later["x"],
            "middle": round((earlier["x"] + later["x"]) / 2, 1),
        }
        for (earlier, later), gap in zip(pairwise(known), gaps, strict=True)
    ]
    if len(known) == 1:
        known[0]["x"] = float(TIMELINE_LEFT)
    return {
        "milestones": milestones,
        "segments": segments,
        "vein_to_vein_days": None if vein_days is None else round(vein_days / SECONDS_PER_DAY, 2),
        "complete": all(m["at"] is not None for m in milestones),
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
        "line": {"x1": TIMELINE_LEFT, "x2": TIMELINE_RIGHT if len(known) > 1 else TIMELINE_LEFT, "y": 75},
    }

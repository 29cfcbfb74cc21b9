"""A temperature chart as a standalone SVG file, for a record or a deviation report kept outside the ledger.

The same drawing as the product page (api/web/templates/_temperature_chart.html) from the
same coordinates (``api.web.temperature_chart.layout``): the held temperature as a step
line, the product's limits dashed, the gaps over the limit shaded, the axis ticks and the
journey's local start and end. The page's template keeps its own markup because it speaks
the reader's language; a file is read anywhere, so it is written in English and carries
its figures in its <title> and <desc> for whoever opens it without the ledger. Every text
is escaped: a logger id or a range comes from a signed payload, not from this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from api.web.temperature_chart import slug
from domain.errors import InvalidInput

NAMESPACE = "http://www.w3.org/2000/svg"
TEXT = 'font-size="11" fill="#333" font-family="sans-serif"'


def svg_document(chart: dict[str, Any]) -> str:
    """The chart as a complete SVG document (XML declaration, namespace, size), ready to be written to a file."""
    s = chart["svg"]
    if s is None:
        raise InvalidInput(
            "the logger file cannot be read back from the document store: there is no chart to draw",
            field="document_sha256",
            rule="logger_file_unreadable",
        )
    width, height, left, right, top, bottom = (s[k] for k in ("width", "height", "left", "right", "top", "bottom"))
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="{NAMESPACE}" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'aria-labelledby="title desc">',
        f'<title id="title">{escape(title(chart))}</title>',
        f'<desc id="desc">{escape(description(chart))}</desc>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    parts += [
        f'<rect x="{g["x"]}" y="{top}" width="{g["width"]}" height="{bottom - top}" fill="#f6d5d5" class="gap"/>'
        for g in s["gaps"]
    ]
    for tick in s["ticks"]:
        parts.append(f'<line x1="{left}" y1="{tick["y"]}" x2="{right}" y2="{tick["y"]}" stroke="#e3e7ed"/>')
        parts.append(_text(left - 6, tick["y"] + 4, tick["label"], anchor="end"))
    parts += [
        f'<line x1="{left}" y1="{limit["y"]}" x2="{right}" y2="{limit["y"]}" stroke="#b3261e" stroke-width="1.5" '
        f'stroke-dasharray="6 4" class="limit"><title>{escape(limit["label"])}</title></line>'
        for limit in s["limits"]
    ]
    parts += [
        f'<polyline points={quoteattr(s["points"])} fill="none" stroke="#0b4f8a" stroke-width="2" class="readings"/>',
        _text(left, height - 8, chart["from_local"]),
        _text(right, height - 8, chart["to_local"], anchor="end"),
        "</svg>",
    ]
    return "\n".join(parts) + "\n"


def title(chart: dict[str, Any]) -> str:
    """What the chart is of: the source and the logger."""
    return f"{chart['title']}, data logger {chart['data_logger_id']}"


def description(chart: dict[str, Any]) -> str:
    """The signed figures in one sentence, for a screen reader or anyone reading the file's text."""
    mine = chart["product"]
    verdict = "excursion" if mine["excursion"] else "within range"
    return (
        f"{chart['from_local']} → {chart['to_local']}; lowest and highest {chart['min_c']:g} / {chart['max_c']:g} °C; "
        f"allowed range {mine['acceptable']}; time outside the range {mine['minutes_outside']} min ({verdict})"
    )


def svg_file_name(chart: dict[str, Any]) -> str:
    """``temperature-<aggregate>-<first 12 hex of the file's SHA-256>.svg``: one name per leg and logger file."""
    name = slug(str(chart.get("slug", chart["aggregate_id"])))
    return f"temperature-{name}-{str(chart['sha256'])[:12]}.svg"


def write_svg_files(charts: Sequence[dict[str, Any]], directory: Path) -> list[Path | None]:
    """Write each drawable chart into ``directory`` (created if needed); per chart, the path written or None.

    A chart whose logger file cannot be read back has no drawing: None, and the caller says why.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path | None] = []
        for chart in charts:
            if chart["svg"] is None:
                written.append(None)
                continue
            path = directory / svg_file_name(chart)
            path.write_text(svg_document(chart), encoding="utf-8")
            written.append(path)
    except OSError as failed:
        raise InvalidInput(
            f"--chart-dir {str(directory)!r} cannot hold the charts: {failed.strerror or failed}",
            field="chart_dir",
            rule="chart_dir_not_writable",
        ) from None
    return written


def _text(x: float, y: float, text: str, *, anchor: str | None = None) -> str:
    where = f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{x}" y="{y}"{where} {TEXT}>{escape(text)}</text>'

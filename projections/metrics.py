"""Turnaround metrics: vein-to-vein, collection-to-release and release-to-infusion, per product kind and site.

One milestone row per product holds the physical times (as signed in payloads
or ``occurred_at``): the first apheresis started (the first "vein"), the first
release (the QP's certificate or an exceptional release; an MSC dose is released
with its bank batch), and the infusion started (the second "vein"). The figures
are computed from those rows at query time. The site is the collection site
named at enrolment: the centre whose pathway the figure describes.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from ledger.clock import parse_instant
from projections.logged import LoggedEvent, instant, payload_instant
from projections.projector import ProjectionFollower
from projections.view import Row, Table, View

BATCH_RELEASES = Table("projection_batch_releases", ("batch_id",), ("batch_id", "released_at"))
MILESTONES = Table(
    "projection_milestones",
    ("product_id",),
    ("product_id", "product_kind", "product_code", "site", "first_collection_at", "released_at", "infused_at"),
)
INTERVALS = {
    "vein_to_vein": ("first_collection_at", "infused_at"),
    "collection_to_release": ("first_collection_at", "released_at"),
    "release_to_infusion": ("released_at", "infused_at"),
}
SECONDS_PER_DAY = 86400.0


def _set_once(row: Row, column: str, value: str | None) -> None:
    """Keep the first time seen: the first collection, the first release, the first infusion."""
    if row.get(column) is None and value is not None:
        row[column] = value


def milestone_change(event: LoggedEvent, row: Row | None, view: View) -> Row | None:
    """The milestone row after one product event (None when the event changes nothing)."""
    record = event.record
    p = record.payload
    if record.type == "ProductEnrolled":
        released = None
        if p.get("batch_id"):
            batch = view.get(BATCH_RELEASES, (str(p["batch_id"]),))
            released = None if batch is None else str(batch["released_at"])
        return {
            "product_id": str(record.aggregate_id),
            "product_kind": p["product_kind"],
            "product_code": p["product_code"],
            "site": p["collection_site"],
            "first_collection_at": None,
            "released_at": released,
            "infused_at": None,
        }
    if row is None:
        return None
    changed = dict(row)
    if record.type == "ApheresisCollected":
        _set_once(changed, "first_collection_at", payload_instant(p["started_at"]))
    elif record.type in ("ProductReleased", "ExceptionalReleaseApproved"):
        _set_once(changed, "released_at", instant(record.occurred_at))
    elif record.type == "Infused":
        _set_once(changed, "infused_at", payload_instant(p["started_at"]))
    return changed if changed != row else None


class MetricsFollower(ProjectionFollower):
    """Keeps ``projection_milestones`` current."""

    name = "metrics"
    tables = (MILESTONES, BATCH_RELEASES)
    lookups = (MILESTONES, BATCH_RELEASES)

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """Record batch releases, then each product's milestones as they happen."""
        for event in events:
            if event.kind == "batch" and event.type == "BatchReleased":
                released = {"batch_id": str(event.aggregate_id), "released_at": instant(event.record.occurred_at)}
                view.put(BATCH_RELEASES, released)
            elif event.kind == "product":
                row = view.get(MILESTONES, (str(event.aggregate_id),))
                changed = milestone_change(event, row, view)
                if changed is not None:
                    view.put(MILESTONES, changed)


def days_between(start: str | None, end: str | None) -> float | None:
    """Days from one stored instant to another, or None if either is unknown."""
    if start is None or end is None:
        return None
    return (parse_instant(end) - parse_instant(start)).total_seconds() / SECONDS_PER_DAY


def summarise(rows: Iterable[Row]) -> list[dict[str, Any]]:
    """Per (product kind, site): how many products, and count/median/mean/min/max days of each interval."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(str(row["product_kind"]), str(row["site"]))].append(row)
    summary = []
    for (kind, site), members in sorted(groups.items()):
        figures: dict[str, Any] = {"product_kind": kind, "site": site, "products": len(members)}
        for name, (start, end) in INTERVALS.items():
            days = [d for d in (days_between(r[start], r[end]) for r in members) if d is not None]
            figures[name] = _stats(days)
        summary.append(figures)
    return summary


def _stats(days: list[float]) -> dict[str, Any]:
    if not days:
        return {"count": 0, "median_days": None, "mean_days": None, "min_days": None, "max_days": None}
    return {
        "count": len(days),
        "median_days": round(statistics.median(days), 3),
        "mean_days": round(statistics.fmean(days), 3),
        "min_days": round(min(days), 3),
        "max_days": round(max(days), 3),
    }

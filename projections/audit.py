"""Audit trail: every signed event by user, role, site and time, with near misses and deviations flagged.

An inspector asks "what did this user sign, where, when" and "show me every near
miss": one row per event (staff and key events included), keyed by log position.
The site is the one the event names (site, destination unit, origin); an event
that names none happened where its aggregate last was, so that site is carried
forward per aggregate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projections.logged import LoggedEvent, instant
from projections.projector import ProjectionFollower
from projections.view import Row, Table, View

AUDIT_SITES = Table("projection_audit_sites", ("aggregate_id",), ("aggregate_id", "site"))
AUDIT = Table(
    "projection_audit",
    ("log_position",),
    (
        "log_position", "aggregate_id", "aggregate_kind", "version", "event_type", "occurred_at", "recorded_at",
        "user_id", "actor_name", "role", "meaning", "site", "flag", "detail",
    ),
)  # fmt: skip
SITE_FIELDS = ("site", "to_unit", "from_site", "collection_site")
FLAGS = {
    "IdentityMismatchRecorded": "near_miss",
    "DeviationRecorded": "deviation",
    "TemperatureExcursionRecorded": "temperature_excursion",
}


def named_site(payload: Mapping[str, Any]) -> str | None:
    """The site an event's payload names, if any."""
    for field in SITE_FIELDS:
        value = payload.get(field)
        if isinstance(value, str) and value:
            return value
    return None


def flag_detail(event: LoggedEvent) -> str | None:
    """What an auditor reads first about a flagged event."""
    p = event.record.payload
    if event.type == "IdentityMismatchRecorded":
        return f"{p['field']} scanned {p['scanned']!r}, expected {p['expected']!r} at {p['step']}"
    if event.type == "DeviationRecorded":
        return f"{p['severity']}: {p['description']}"
    if event.type == "TemperatureExcursionRecorded":
        return f"{p['context']} excursion to {p['max_c']} °C for {p['duration_min']} min"
    return None


def audit_row(event: LoggedEvent, site: str | None) -> Row:
    """One line of the audit trail."""
    record = event.record
    return {
        "log_position": event.position,
        "aggregate_id": str(record.aggregate_id),
        "aggregate_kind": event.kind,
        "version": record.version,
        "event_type": record.type,
        "occurred_at": instant(record.occurred_at),
        "recorded_at": instant(record.recorded_at),
        "user_id": record.actor.user_id,
        "actor_name": record.actor.name,
        "role": record.actor.role,
        "meaning": record.meaning,
        "site": site,
        "flag": FLAGS.get(record.type),
        "detail": flag_detail(event),
    }


class AuditFollower(ProjectionFollower):
    """Keeps ``projection_audit`` current."""

    name = "audit"
    tables = (AUDIT, AUDIT_SITES)
    lookups = (AUDIT_SITES,)

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """One row per event; the aggregate's last named site carried forward."""
        for event in events:
            key = str(event.aggregate_id)
            site = named_site(event.record.payload)
            if site is None:
                known = view.get(AUDIT_SITES, (key,))
                site = None if known is None else str(known["site"])
            else:
                view.put(AUDIT_SITES, {"aggregate_id": key, "site": site})
            view.put(AUDIT, audit_row(event, site))

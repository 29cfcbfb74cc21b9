"""What staff, pharmacists and auditors ask every day: timelines, inventory, the audit trail, metrics.

Each query catches its projection up first, so it answers with everything
stored so far, and refuses unknown patients, sites and users with an error that
names the field, rather than answering with an empty list that looks like "none".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import NotFound
from domain.staff import staff_id_for
from ledger.store import EventStore, SideCursor
from projections.audit import AUDIT, AuditFollower
from projections.corrections import CORRECTION, annotate_timeline, audit_chains
from projections.inventory import INVENTORY, InventoryFollower
from projections.logged import instant, records_of
from projections.metrics import MILESTONES, MetricsFollower, summarise
from projections.timeline import TIMELINE, TimelineFollower
from projections.view import Row

NEAR_MISS = "near_miss"
DEVIATION = "deviation"


def _rows(store: EventStore, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
    with store.side_transaction() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _exists(cursor: SideCursor, sql: str, params: tuple[Any, ...]) -> bool:
    cursor.execute(sql, params)
    return cursor.fetchone() is not None


def timeline(store: EventStore, pseudonym: str) -> list[Row]:
    """Every event of every product of the patient, in the order things happened; a corrected fact carries its
    correction chain (original values, each correction, values in force) and a correction the fact it corrects."""
    TimelineFollower(store).catch_up()
    rows = _rows(
        store,
        f"SELECT * FROM {TIMELINE.name} WHERE patient_pseudonym = %s ORDER BY occurred_at, log_position",
        (pseudonym,),
    )
    if not rows:
        raise NotFound(f"no product is recorded for patient pseudonym {pseudonym!r}", field="patient")
    for row in rows:
        row["payload"] = json.loads(row["payload"])
        row["clinical"] = bool(row["clinical"])
    annotate_timeline(rows)
    return rows


def inventory(store: EventStore, site: str | None = None, *, limit: int | None = None, offset: int = 0) -> list[Row]:
    """Units on hand, by site and storage location; a named site must be one the ledger has seen.

    With ``limit``, one page cut by the database along the location index (migration 0004).
    """
    InventoryFollower(store).catch_up()
    where, params = ("", ()) if site is None else ("WHERE site = %s", (site,))
    order = "ORDER BY site, tank, rack, box, position, product_id"
    if limit is not None:
        order += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    if site is not None:
        AuditFollower(store).catch_up()
        with store.side_transaction() as cursor:
            known = _exists(cursor, f"SELECT 1 FROM {AUDIT.name} WHERE site = %s LIMIT 1", (site,))
        if not known:
            raise NotFound(f"no event names the site {site!r}", field="site", rule="unknown_site")
    return _rows(store, f"SELECT * FROM {INVENTORY.name} {where} {order}", params)


def audit(
    store: EventStore,
    *,
    user: str | None = None,
    since: datetime | None = None,
    role: str | None = None,
    site: str | None = None,
) -> dict[str, list[Row]]:
    """Every event matching the filters (recorded at or after ``since``), plus the near misses and deviations, and
    the correction chains of the facts (or corrections) among them: original values, each correction, values in
    force."""
    AuditFollower(store).catch_up()
    if user is not None and not store.stored_history(staff_id_for(user)):
        raise NotFound(f"no staff member is registered as {user!r}", field="user", rule="unknown_user")
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("user_id", user), ("role", role), ("site", site)):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if since is not None:
        clauses.append("recorded_at >= %s")
        params.append(instant(since))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    events = _rows(store, f"SELECT * FROM {AUDIT.name} {where} ORDER BY log_position", tuple(params))
    return {
        "events": events,
        "near_misses": [row for row in events if row["flag"] == NEAR_MISS],
        "deviations": [row for row in events if row["flag"] == DEVIATION],
        "corrections": _corrections_among(store, events),
    }


def _corrections_among(store: EventStore, events: list[Row]) -> list[dict[str, Any]]:
    """The chains of the aggregates corrected anywhere in their history that the selection touches."""
    signed = {(str(row["aggregate_id"]), int(row["version"])) for row in events}
    corrected = {aggregate for aggregate, _ in signed} & _corrected_aggregates(store)
    histories = {aggregate: records_of(store.stored_history(UUID(aggregate))) for aggregate in sorted(corrected)}
    return audit_chains(histories, signed)


def _corrected_aggregates(store: EventStore) -> set[str]:
    """Every aggregate with at least one correction (from the audit trail, all of it)."""
    rows = _rows(store, f"SELECT DISTINCT aggregate_id FROM {AUDIT.name} WHERE event_type = %s", (CORRECTION,))
    return {str(row["aggregate_id"]) for row in rows}


def metrics(store: EventStore) -> list[dict[str, Any]]:
    """Turnaround figures per product kind and site."""
    MetricsFollower(store).catch_up()
    return summarise(_rows(store, f"SELECT * FROM {MILESTONES.name}"))

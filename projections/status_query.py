"""`custody status`: a product's status now (from the projection) or as of a moment (from the event store).

"As of T" means what the ledger knew at T: the product's events with
``recorded_at`` ≤ T, replayed by the same function the projection uses, from the
event store rather than the projection (which only knows the present). A step
back-dated with ``occurred_at`` ≤ T but recorded after T is therefore not shown:
the answer to "what did the ledger say then" must not change later.
Time in state and time left are counted up to now, or up to T. Each bag's fate, the
site setting that covers the product, a withdrawal of consent, the QC results against
the release panel of the catalogue in force and the corrected facts are added at query
time (projections/status_details.py), as of the same moment.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.catalogue import Catalogue
from domain.errors import NotFound, RuleViolation
from domain.events import EventRecord
from ledger.catalogue_source import replay_catalogue
from ledger.clock import parse_instant
from ledger.store import APPLICATION_NAME, EventStore
from projections.logged import instant, records_of
from projections.product_status import STATUS, ProductStatusFollower, product_status
from projections.projector import tracking_table
from projections.status_details import with_details
from projections.view import Row


def status_now(
    store: EventStore, product_id: UUID, now: datetime, catalogue: Catalogue | None = None
) -> dict[str, Any]:
    """The projected status, caught up first, with the clocks read at ``now``.

    The row and the projection's lag are read in one transaction; the projection is
    caught up only when it is behind the log. A status read, the busiest request of
    the API, so costs one round of queries instead of three when nothing is pending.
    """
    row, behind = _status_row(store, product_id)
    if behind:
        ProductStatusFollower(store, catalogue).catch_up()
        row, behind = _status_row(store, product_id)
    if behind and catalogue is not None:
        # The projection could not catch up (a database that takes no writes): a product's status is
        # what staff act on, so it is replayed from its signed events rather than answered stale.
        return status_as_of(store, product_id, now, catalogue)
    if row is None:
        raise NotFound(f"no product has the id {product_id}", field="product")
    in_force = catalogue if catalogue is not None else replay_catalogue(store).catalogue
    return with_details(store, present(row, now, as_of=None), None, in_force)


def _status_row(store: EventStore, product_id: UUID) -> tuple[Row | None, bool]:
    """The product's status row, and whether the projection has events left to apply."""
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT ({store.head_sql()}) AS head, (SELECT COALESCE(MAX(notification_id), 0) FROM "
            f"{tracking_table(store)} WHERE application_name = %s) AS position",
            (f"{APPLICATION_NAME}/{ProductStatusFollower.name}",),
        )
        lag = cursor.fetchone()
        cursor.execute(f"SELECT * FROM {STATUS.name} WHERE product_id = %s", (str(product_id),))
        row = cursor.fetchone()
    behind = lag is None or int(lag["head"]) > int(lag["position"])
    return row, behind


def status_as_of(store: EventStore, product_id: UUID, as_of: datetime, catalogue: Catalogue) -> dict[str, Any]:
    """The status replayed from the events recorded up to ``as_of``."""
    every = records_of(store.stored_history(product_id))
    if not every or every[0].type != "ProductEnrolled":
        raise NotFound(f"no product has the id {product_id}", field="product")
    known = _recorded_by(every, as_of)
    if not known:
        raise NotFound(
            f"product {product_id} was first recorded at {instant(every[0].recorded_at)}, after --as-of "
            f"{instant(as_of)}",
            field="as_of",
            rule="not_yet_recorded",
        )

    def temperature_class_of(shipment_id: str) -> str | None:
        first = _recorded_by(records_of(store.recorder.select_events(UUID(shipment_id), lte=1)), as_of)
        return str(first[0].payload["temperature_class"]) if first else None

    try:
        row = product_status(product_id, known, catalogue, temperature_class_of)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        # A signed event this version cannot read (recorded by a forger or an older format): say so, never 500.
        raise RuleViolation(
            f"product {product_id}'s history up to {instant(as_of)} holds an event this version cannot replay "
            f"({type(error).__name__}); `custody verify` and `custody projections check` locate it",
            field="as_of",
            rule="history_not_replayable",
        ) from error
    assert row is not None
    return with_details(store, present(row, as_of, as_of=as_of), as_of, catalogue)


def _recorded_by(records: list[EventRecord], moment: datetime) -> list[EventRecord]:
    return [record for record in records if record.recorded_at <= moment]


def _seconds(start: str | None, end: datetime) -> float | None:
    return None if start is None else round((end - parse_instant(start)).total_seconds(), 3)


def present(row: Row, now: datetime, *, as_of: datetime | None) -> dict[str, Any]:
    """A status row as people read it: holds, deviations and deadlines as lists, clocks counted at ``now``."""
    holds = []
    if row["suspended"]:
        holds.append({"kind": "suspension", "reason": row["suspension_reason"]})
    if row["quarantined"]:
        holds.append({"kind": "quarantine", "reason": row["quarantine_reason"]})
    deadlines = []
    if row["deadline_at"] is not None:
        left = -(_seconds(row["deadline_at"], now) or 0.0)
        deadlines.append(
            {"kind": row["deadline_kind"], "deadline_at": row["deadline_at"], "seconds_left": left, "overdue": left < 0}
        )
    location = {name: row[name] for name in ("site", "tank", "rack", "box", "position")}
    return {
        "product_id": row["product_id"],
        "coi": row["coi"],
        "product_kind": row["product_kind"],
        "product_code": row["product_code"],
        "patient_pseudonym": row["patient_pseudonym"],
        "indication": row["indication"],
        "batch_id": row["batch_id"],
        "lot": row["lot"],
        "state": row["state"],
        "state_since": row["state_since"],
        "time_in_state_seconds": _seconds(row["state_since"], now),
        "next_step": row["next_step"],
        "custodian": {
            "user_id": row["custodian_user_id"],
            "name": row["custodian_name"],
            "role": row["custodian_role"],
        },
        "location": location,
        "shipment_id": row["shipment_id"],
        "in_transit_to": row["in_transit_to"],
        "holds": holds,
        "recalled": bool(row["recalled"]),
        "exceptional_release": bool(row["exceptional_release"]),
        "open_deviations": json.loads(row["open_deviations"]),
        "deadlines": deadlines,
        "last_event_type": row["last_event_type"],
        "last_occurred_at": row["last_occurred_at"],
        "version": int(row["version"]),
        "as_of": None if as_of is None else instant(as_of),
        "source": "projection" if as_of is None else "event store (events recorded up to as_of)",
    }


def list_status(
    store: EventStore, now: datetime, *, state: str | None = None, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Products' projected status (optionally in one state), most recently changed first; one page when ``limit``.

    The page is cut by the database along an index (migration 0020), so a page of a hundred thousand products
    costs what a page of a thousand does; only the page's rows are presented.
    """
    ProductStatusFollower(store).catch_up()
    where, params = ("WHERE state = %s", list[object]([state])) if state else ("", list[object]())
    page = ""
    if limit is not None:
        page = " LIMIT %s OFFSET %s"
        params = [*params, limit, offset]
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT * FROM {STATUS.name} {where} ORDER BY last_occurred_at DESC, product_id{page}", tuple(params)
        )
        rows = cursor.fetchall()
    return [present(row, now, as_of=None) for row in rows]

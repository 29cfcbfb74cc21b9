"""Follow-up worklist: every scheduled visit of every infused product, and whether it was done.

Rows come from the schedule recorded at infusion (``FollowUpScheduled``) and are
marked done by the ``FollowUpRecorded`` that names the visit. Whether an open visit
is due, overdue or upcoming depends on today, so it is computed when asked, never
stored: a rebuild tomorrow writes the same rows as today. Pseudonyms only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from domain.follow_up import visit_name
from projections.logged import LoggedEvent, instant
from projections.projector import ProjectionFollower
from projections.view import Row, Table, View

FOLLOWUP_PRODUCTS = Table(
    "projection_followup_products", ("product_id",), ("product_id", "patient_pseudonym", "coi", "product_kind")
)
FOLLOWUP_VISITS = Table(
    "projection_followup_visits",
    ("product_id", "visit"),
    (
        "product_id", "visit", "sequence", "patient_pseudonym", "coi", "product_kind", "infused_on", "due_on",
        "latest_on", "done_at", "done_version",
    ),
)  # fmt: skip
OVERDUE, DUE, UPCOMING, DONE = "overdue", "due", "upcoming", "done"


def visit_status(row: Row, today: date) -> str:
    """Done; overdue once past its last on-time day; due from its due day; upcoming before."""
    if row["done_at"] is not None:
        return DONE
    if today > date.fromisoformat(row["latest_on"]):
        return OVERDUE
    return DUE if today >= date.fromisoformat(row["due_on"]) else UPCOMING


class FollowUpFollower(ProjectionFollower):
    """Keeps ``projection_followup_visits`` (and the product → patient map it needs) current."""

    name = "followup"
    tables = (FOLLOWUP_VISITS, FOLLOWUP_PRODUCTS)
    lookups = (FOLLOWUP_VISITS, FOLLOWUP_PRODUCTS)

    def project(self, events: Sequence[LoggedEvent], view: View) -> None:
        """Open a row per scheduled visit; close it when the visit is recorded."""
        for event in events:
            if event.kind != "product":
                continue
            product_id = str(event.aggregate_id)
            payload = event.record.payload
            if event.type == "ProductEnrolled":
                view.put(
                    FOLLOWUP_PRODUCTS,
                    {
                        "product_id": product_id,
                        "patient_pseudonym": payload["patient_pseudonym"],
                        "coi": payload["coi"],
                        "product_kind": payload["product_kind"],
                    },
                )
            elif event.type == "FollowUpScheduled":
                self._schedule(event, view)
            elif event.type == "FollowUpRecorded":
                found = view.get(FOLLOWUP_VISITS, (product_id, visit_name(str(payload["visit"]))))
                if found is not None and found["done_at"] is None:
                    found.update(done_at=instant(event.record.occurred_at), done_version=event.record.version)
                    view.put(FOLLOWUP_VISITS, found)

    def _schedule(self, event: LoggedEvent, view: View) -> None:
        product = view.get(FOLLOWUP_PRODUCTS, (str(event.aggregate_id),))
        if product is None:
            return
        payload = event.record.payload
        for sequence, visit in enumerate(payload["visits"], start=1):
            view.put(
                FOLLOWUP_VISITS,
                {
                    **product,
                    "visit": visit["visit"],
                    "sequence": sequence,
                    "infused_on": payload["infused_on"],
                    "due_on": visit["due_on"],
                    "latest_on": visit["latest_on"],
                    "done_at": None,
                    "done_version": None,
                },
            )

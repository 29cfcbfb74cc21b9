"""The follow-up worklist and a patient's overdue visits, as the unit asks for them each morning.

Catches the projection up first. ``today`` is passed in (the ledger's clock, in the
CLI), so the answer for a given day is the same whenever it is asked.
"""

from __future__ import annotations

from datetime import date, timedelta

from ledger.store import EventStore
from projections.followup import FOLLOWUP_VISITS, OVERDUE, FollowUpFollower, visit_status
from projections.view import Row

HORIZON_DAYS = 30
"""The worklist shows open visits falling due within this many days, so the unit can book them."""


def _open_visits(store: EventStore, where: str = "", params: tuple[str, ...] = ()) -> list[Row]:
    FollowUpFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(
            f"SELECT * FROM {FOLLOWUP_VISITS.name} WHERE done_at IS NULL {where} "
            "ORDER BY due_on, patient_pseudonym, sequence",
            params,
        )
        return cursor.fetchall()


def worklist(store: EventStore, today: date, *, overdue_only: bool = False) -> list[Row]:
    """Open visits overdue, due, or falling due within the horizon (only overdue ones when asked), with status."""
    horizon = (today + timedelta(days=HORIZON_DAYS)).isoformat()
    rows = []
    for row in _open_visits(store, "AND due_on <= %s", (horizon,)):
        row["status"] = visit_status(row, today)
        if not overdue_only or row["status"] == OVERDUE:
            rows.append(row)
    return rows


def overdue_for_patient(store: EventStore, pseudonym: str, today: date) -> list[Row]:
    """The patient's visits past their last on-time day and not recorded: shown under their timeline."""
    rows = _open_visits(store, "AND patient_pseudonym = %s AND latest_on < %s", (pseudonym, today.isoformat()))
    for row in rows:
        row["status"] = OVERDUE
    return rows

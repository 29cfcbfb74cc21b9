"""The worklist's rows, one page at a time, most urgent first, straight from the product status table.

A unit with thousands of products must get its worklist as fast as with ten: each section is one
query with ``LIMIT``/``OFFSET`` and a ``COUNT``, served by the status table's indexes (by next step,
migration 0018; by deadline, 0004), so a page costs the rows it shows, not the ledger's size, and
the browser receives those rows only. The order is the worklist's urgency: a running deadline first,
the least time left first (overdue before all), then a product on hold (suspended or quarantined),
then the one that has waited longest in its state. The search matches the COI and the patient
pseudonym (anywhere in them, case ignored) or the product id exactly.

A reader who may not see every product (a sponsor: its trials only) is filtered by ``keep``, a
check that needs the product's history: those rows are filtered before the page is cut, so the
count and the pages are right, at the cost of reading every matching row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.store import EventStore
from projections.product_status import STATUS, ProductStatusFollower
from projections.status_query import present
from projections.view import Row

URGENCY_ORDER = (
    "CASE WHEN deadline_at IS NULL THEN 1 ELSE 0 END, deadline_at, "
    "CASE WHEN suspended = 1 OR quarantined = 1 THEN 0 ELSE 1 END, state_since, product_id"
)
DEADLINE_ORDER = "deadline_at, product_id"


@dataclass(frozen=True)
class Section:
    """Which rows a section shows, and in which order."""

    next_steps: Sequence[str] | None = None  # only these next steps (None: any)
    other_than: Sequence[str] | None = None  # none of these next steps (None: no exclusion)
    running_deadline: bool = False
    order: str = URGENCY_ORDER


@dataclass(frozen=True)
class Page:
    """One page of a section: its rows as status reads show them, the count of all, and where it stands."""

    rows: list[dict[str, Any]]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        """How many pages the section has (one, even when empty)."""
        return max(1, -(-self.total // self.size))


def next_steps(store: EventStore) -> list[str]:
    """Every distinct next step the status table holds (a few dozen at most), for choosing a role's own."""
    ProductStatusFollower(store).catch_up()
    with store.side_transaction() as cursor:
        cursor.execute(f"SELECT DISTINCT next_step FROM {STATUS.name} WHERE next_step IS NOT NULL")
        return sorted(str(row["next_step"]) for row in cursor.fetchall())


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.upper()}%"


def _where(section: Section, search: str | None) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if section.next_steps is not None:
        if not section.next_steps:
            return "WHERE 1 = 0", []
        clauses.append(f"next_step IN ({', '.join('%s' for _ in section.next_steps)})")
        params.extend(section.next_steps)
    if section.other_than:
        clauses.append(f"(next_step IS NULL OR next_step NOT IN ({', '.join('%s' for _ in section.other_than)}))")
        params.extend(section.other_than)
    if section.running_deadline:
        clauses.append("deadline_at IS NOT NULL")
    if search:
        compact = "".join(search.split())
        clauses.append(
            "(UPPER(coi) LIKE %s ESCAPE '\\' OR UPPER(patient_pseudonym) LIKE %s ESCAPE '\\' OR product_id = %s)"
        )
        params.extend([_like(compact), _like(search.strip()), search.strip().lower()])
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def section_page(
    store: EventStore,
    now: datetime,
    section: Section,
    *,
    number: int,
    size: int,
    search: str | None = None,
    keep: Callable[[Row], bool] | None = None,
) -> Page:
    """Page ``number`` (from 1; past the last, the last) of the section, rows presented with clocks read at ``now``.

    Call ``next_steps`` (or another read that catches the status up) first: this reads the table as it is.
    """
    where, params = _where(section, search)
    with store.side_transaction() as cursor:
        if keep is None:
            cursor.execute(f"SELECT COUNT(*) AS n FROM {STATUS.name} {where}", tuple(params))
            counted = cursor.fetchone()
            total = int(counted["n"]) if counted else 0
            number = min(number, max(1, -(-total // size)))
            cursor.execute(
                f"SELECT * FROM {STATUS.name} {where} ORDER BY {section.order} LIMIT %s OFFSET %s",
                (*params, size, (number - 1) * size),
            )
            rows = cursor.fetchall()
        else:
            cursor.execute(f"SELECT * FROM {STATUS.name} {where} ORDER BY {section.order}", tuple(params))
            kept = [row for row in cursor.fetchall() if keep(row)]
            total = len(kept)
            number = min(number, max(1, -(-total // size)))
            rows = kept[(number - 1) * size : number * size]
    return Page([present(row, now, as_of=None) for row in rows], total, number, size)

"""How loudly a running deadline speaks: calm, amber ("soon"), red, or overdue.

The thresholds are the catalogue's (``<kind>_amber_min`` and ``<kind>_red_min`` of the product's entry), never
constants of the interface: a 30-minute thaw window and a 30-hour fresh shipping window cannot warn at the same
minute, and a site whose protocol says otherwise changes the figure under change control, as any other limit.
A deadline reached to the second is not yet overdue (the status says ``overdue`` once time left is below zero):
both clocks agree on the same instant.
"""

from __future__ import annotations

from enum import StrEnum

from domain.catalogue import DEADLINE_KINDS, CatalogueEntry


class Urgency(StrEnum):
    """A deadline's level; the order of the members is the order of alarm."""

    CALM = "calm"
    AMBER = "amber"
    RED = "red"
    OVERDUE = "overdue"


def thresholds(kind: str, entry: CatalogueEntry) -> tuple[int, int] | None:
    """(amber, red) minutes left for this kind of deadline; None for a clock the catalogue sets no threshold for."""
    if kind not in DEADLINE_KINDS:
        return None
    return int(getattr(entry, f"{kind}_amber_min")), int(getattr(entry, f"{kind}_red_min"))


def urgency(kind: str, seconds_left: float, entry: CatalogueEntry | None) -> Urgency:
    """The level of a deadline with ``seconds_left`` to go (negative: past), by the product's catalogue entry.

    A product whose code is no longer in the catalogue, or a clock without thresholds, still turns red when
    overdue: losing the figure must not silence the deadline.
    """
    if seconds_left < 0:
        return Urgency.OVERDUE
    limits = None if entry is None else thresholds(kind, entry)
    if limits is None:
        return Urgency.CALM
    amber, red = limits
    if seconds_left <= red * 60:
        return Urgency.RED
    if seconds_left <= amber * 60:
        return Urgency.AMBER
    return Urgency.CALM

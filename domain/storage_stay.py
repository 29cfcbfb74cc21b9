"""A product's stays in an LN2 tank: where it sat, from when, until when.

A tank's data-logger file is judged against the time the product was in that tank
(domain/storage_logger_rules.py), so the product remembers each stay as its facts
replay: a stay opens when the product is stored at a tank position (``StoredInLN2``)
and closes at the first fact after which it is no longer stored there — moved to
another position (a new stay opens), dispensed, shipped, destroyed, or a correction
that places it elsewhere. The times are the facts' ``occurred_at``: when the bag was
put in and taken out, not when somebody typed it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class StorageStay:
    """One stretch of time a product sat at one tank position; ``end`` is None while it still does."""

    site: str
    tank: str
    rack: str
    box: str
    position: str
    start: datetime
    end: datetime | None = None

    @property
    def place(self) -> tuple[str, str, str, str, str]:
        """The five coordinates, to compare a stay with where the product is now."""
        return (self.site, self.tank, self.rack, self.box, self.position)

    def describe(self) -> str:
        """``tank T1 rack R2 box B3 position P4 at SITE`` (no identity: coordinates only)."""
        return f"tank {self.tank} rack {self.rack} box {self.box} position {self.position} at {self.site}"


def follow(
    stays: tuple[StorageStay, ...], place: tuple[str, str, str, str, str] | None, at: datetime
) -> tuple[StorageStay, ...]:
    """The stays after a fact at ``at`` left the product at ``place`` (None: not stored in a tank).

    Closes the open stay when the product is no longer at its place, and opens one when it
    now sits at a place no open stay holds. Never reopens or edits a closed stay.
    """
    open_stay = stays[-1] if stays and stays[-1].end is None else None
    if open_stay is not None and open_stay.place != place:
        stays = (*stays[:-1], replace(open_stay, end=max(at, open_stay.start)))
        open_stay = None
    if place is not None and open_stay is None:
        stays = (*stays, StorageStay(*place, start=at))
    return stays

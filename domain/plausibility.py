"""Plausibility: a measured quantity outside what is physically possible is a typing slip, refused at entry.

Plausible is not in specification. Whether a collection holds enough cells, or a dose is
the prescribed one, is judged by people and the product's specification; what the ledger
refuses here is a figure no real collection or infusion can have — a volume typed in
litres instead of millilitres, a cell count with a slipped exponent — before it is signed
for thirty years. The ranges are therefore wide, a factor of ten or so around what labels
and practice report; each product's catalogue entry may narrow or widen them
(``catalogue.<CODE>.<setting>`` = ``[low, high]``, domain/catalogue.py). Temperatures are
judged elsewhere (storage limits, shipper ranges) and are not repeated here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from domain.errors import InvalidInput

if TYPE_CHECKING:
    from domain.catalogue import CatalogueEntry


@dataclass(frozen=True)
class Quantity:
    """One measured quantity: its catalogue setting, unit, default plausible range and why that range."""

    setting: str
    what: str
    unit: str
    default: tuple[float, float]
    why: str


APHERESIS_VOLUME = Quantity(
    "apheresis_volume_ml", "an apheresis collection's volume", "mL", (10.0, 1000.0),
    "a leukapheresis bag holds tens to a few hundred mL: under 10 mL nothing was collected, over 1 L no bag holds it",
)  # fmt: skip
APHERESIS_TNC = Quantity(
    "apheresis_tnc_cells", "an apheresis collection's total nucleated cells", "cells", (1e8, 1e12),
    "a leukapheresis yields about 10^9 to 10^11 nucleated cells; ten times beyond either end is a slipped exponent",
)  # fmt: skip
APHERESIS_CD3 = Quantity(
    "apheresis_cd3_cells", "an apheresis collection's CD3+ T cells", "cells", (1e7, 1e12),
    "CD3+ cells number 10^8 to 10^11 even from a lymphopenic patient, and never more than the nucleated cells",
)  # fmt: skip
INFUSED_VOLUME = Quantity(
    "infused_volume_ml", "an infused dose's volume", "mL", (1.0, 500.0),
    "a dose is one to three bags or vials of a few to about 100 mL (CAR-T) or up to about 250 mL (MSC)",
)  # fmt: skip
INFUSED_VIABLE_CELLS = Quantity(
    "infused_viable_cells", "an infused dose's viable cells", "cells", (1e5, 1e10),
    "labelled CAR-T doses span about 10^6 (a small child) to 10^9 cells, MSC doses 10^7 to 10^9",
)  # fmt: skip

QUANTITIES: tuple[Quantity, ...] = (
    APHERESIS_VOLUME,
    APHERESIS_TNC,
    APHERESIS_CD3,
    INFUSED_VOLUME,
    INFUSED_VIABLE_CELLS,
)
"""Every quantity the ledger judges for plausibility, each a catalogue setting."""


def plausible_range(value: object, path: str) -> tuple[float, float]:
    """A catalogue setting ``[low, high]``: two finite numbers with 0 < low <= high, refused naming ``path``."""
    pair = cast(list[object], value) if isinstance(value, list | tuple) and len(value) == 2 else []
    if not pair or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair):
        raise InvalidInput(
            f"{path} must be [low, high], two numbers, got {value!r} ({type(value).__name__})",
            field=path,
            rule="catalogue_wrong_type",
        )
    low, high = (float(cast(float, v)) for v in pair)
    if not (math.isfinite(low) and math.isfinite(high)) or not 0 < low <= high:
        raise InvalidInput(
            f"{path} must have 0 < low <= high, finite, got {value!r}",
            field=path,
            rule="catalogue_out_of_range",
        )
    return (low, high)


def figure(value: float) -> str:
    """A figure as people read it: 245.5 mL as is, a cell count in powers of ten (1.2e+10)."""
    return f"{value:g}" if abs(value) < 1e4 else f"{value:.4g}"


def check_plausible(value: float | None, field: str, quantity: Quantity, entry: CatalogueEntry) -> None:
    """Refuse a figure outside its product's plausible range, giving the value, the unit, the range and why."""
    if value is None:
        return
    low, high = cast(tuple[float, float], getattr(entry, quantity.setting))
    if low <= value <= high:
        return
    raise InvalidInput(
        f"{field} {figure(value)} {quantity.unit} is not plausible for {quantity.what}: {entry.code} expects "
        f"{figure(low)} to {figure(high)} {quantity.unit} ({quantity.why}); check the figure and its unit",
        field=field,
        rule="implausible_value",
    )


def check_subset_count(part: float | None, part_field: str, whole: float | None, whole_field: str) -> None:
    """A count of one kind of cell cannot exceed the count of the cells it is part of (CD3+ among nucleated)."""
    if part is None or whole is None or part <= whole:
        return
    raise InvalidInput(
        f"{part_field} {figure(part)} cells is more than {whole_field} {figure(whole)} cells; CD3+ T cells are "
        "nucleated cells, so they cannot outnumber them",
        field=part_field,
        rule="implausible_value",
    )

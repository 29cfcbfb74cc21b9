"""Temperatures are judged by the ledger from measured figures, never taken on someone's word.

A receipt carries what the shipper's data logger read (lowest and highest temperature,
minutes outside the range) and a storage step the tank's reading; the ledger compares
them with the catalogue's range for the product (domain/catalogue.py) and decides
whether there was an excursion. A verdict the person also declares (``temperature_ok``)
must agree with the figures: one that contradicts them is refused, as a QC verdict that
contradicts its measured value is (README, "Judged, not declared").
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalogue import CatalogueEntry
from domain.errors import InvalidInput, RuleViolation
from domain.shipment import TemperatureClass

VERDICT_RULE = "temperature_verdict_contradicts_figures"


@dataclass(frozen=True)
class AcceptableRange:
    """Where the temperature must stay: at or above ``low_c`` (None: no floor), at or below ``high_c`` (None: none)."""

    low_c: float | None
    high_c: float | None

    def admits(self, celsius: float) -> bool:
        """True when one reading lies inside the range."""
        return (self.low_c is None or celsius >= self.low_c) and (self.high_c is None or celsius <= self.high_c)

    def describe(self) -> str:
        """The range as a label writes it: "2–8 °C", "≤ -120 °C", or "any temperature"."""
        if self.low_c is not None and self.high_c is not None:
            return f"{self.low_c:g}–{self.high_c:g} °C"
        if self.high_c is not None:
            return f"≤ {self.high_c:g} °C"
        if self.low_c is not None:
            return f"≥ {self.low_c:g} °C"
        return "any temperature"


@dataclass(frozen=True)
class LoggerFigures:
    """What a data logger read over a journey or a reading period."""

    min_c: float
    max_c: float
    excursion_min: int

    def describe(self) -> str:
        """The figures as the messages and the excursion's reason quote them."""
        return f"min {self.min_c:g} °C, max {self.max_c:g} °C, {self.excursion_min} min outside the range"


def shipping_range(entry: CatalogueEntry, temperature_class: str) -> AcceptableRange:
    """The catalogue's range for this product in a shipper of this class."""
    if temperature_class == TemperatureClass.FRESH_2_8C:
        return AcceptableRange(*entry.fresh_2_8c_range_c)
    if temperature_class == TemperatureClass.ROOM_TEMPERATURE:
        return AcceptableRange(*entry.room_temperature_range_c)
    limit = entry.ln2_dry_shipper_max_c if entry.ln2_dry_shipper_max_c is not None else entry.storage_max_c
    return AcceptableRange(None, limit)


def storage_range(entry: CatalogueEntry) -> AcceptableRange:
    """The catalogue's storage limit for this product (no floor: colder is always allowed)."""
    return AcceptableRange(None, entry.storage_max_c)


def check_figures(figures: LoggerFigures, field_prefix: str = "payload") -> None:
    """The lowest reading cannot be above the highest: such figures were not read from one logger."""
    if figures.min_c > figures.max_c:
        raise InvalidInput(
            f"{field_prefix}.min_c {figures.min_c:g} °C is above {field_prefix}.max_c {figures.max_c:g} °C: "
            "copy both from the data logger's report",
            field=f"{field_prefix}.min_c",
            rule="min_above_max",
        )


def within_range(figures: LoggerFigures, acceptable: AcceptableRange) -> bool:
    """True when both extremes lie inside the range and the logger counted no minute outside it."""
    return acceptable.admits(figures.min_c) and acceptable.admits(figures.max_c) and figures.excursion_min == 0


def check_declared_verdict(declared: bool | None, within: bool, figures: str, acceptable: str, field: str) -> None:
    """A verdict the person declares must be the one the figures give; none declared is fine (derived)."""
    if declared is None or declared == within:
        return
    said = "true (no excursion)" if declared else "false (an excursion)"
    found = "within" if within else "outside"
    raise RuleViolation(
        f"{field} is {said} but the measured figures ({figures}) are {found} the limit {acceptable}; "
        f"send the figures as read and leave {field.rsplit('.', 1)[-1]} out, the ledger judges them",
        field=field,
        rule=VERDICT_RULE,
    )

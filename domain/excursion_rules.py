"""A temperature excursion someone records must be one: its figures are judged like a receipt's.

``TemperatureExcursionRecorded`` is a declared verdict ("the temperature left its range")
with the figures read. The ledger compares them with the catalogue's range for where the
product was (domain/temperature_verdict.py): the storage limit in a tank, the shipper's
range while the product travels. Figures all inside that range contradict the verdict and
are refused, as a receipt's ``temperature_ok`` that contradicts its figures is; an alarm
while the shipper's class is no longer known (after receipt) is recorded as read.
"""

from __future__ import annotations

from uuid import UUID

from domain import product_exception_events as ex
from domain.errors import RuleViolation
from domain.events import NewEvent
from domain.product import TherapyProduct
from domain.shipment import Shipment
from domain.spec import Command
from domain.temperature_verdict import (
    VERDICT_RULE,
    AcceptableRange,
    LoggerFigures,
    check_figures,
    shipping_range,
    storage_range,
    within_range,
)


def record_excursion(product: TherapyProduct, cmd: Command) -> list[NewEvent]:
    """Record the alarm when its figures leave the product's range (it then quarantines the product)."""
    payload: ex.TemperatureExcursionRecorded = cmd.payload
    lowest = payload.min_c if payload.min_c is not None else payload.max_c
    figures = LoggerFigures(lowest, payload.max_c, payload.duration_min)
    check_figures(figures)
    acceptable, where = _range_for(product, cmd, payload.context)
    if acceptable is not None and within_range(figures, acceptable):
        read = f"max {payload.max_c:g} °C, {payload.duration_min} min outside the range"
        if payload.min_c is not None:
            read = f"min {payload.min_c:g} °C, {read}"
        raise RuleViolation(
            f"payload.max_c: the figures ({read}) are within the limit {acceptable.describe()} for "
            f"{product.product_code} {where}: that is no excursion; record a note (AnnotationAdded) if the "
            "alarm needs explaining",
            field="payload.max_c",
            rule=VERDICT_RULE,
        )
    return [cmd.record()]


def _range_for(
    product: TherapyProduct, cmd: Command, context: ex.ExcursionContext
) -> tuple[AcceptableRange | None, str]:
    """The range the figures are judged against, and where it applies; None when it cannot be known."""
    entry = cmd.catalogue.get(product.product_code)
    if context == ex.ExcursionContext.STORAGE:
        return storage_range(entry), "in storage"
    shipment = cmd.load(UUID(product.shipment_id)) if product.shipment_id is not None else None
    if not isinstance(shipment, Shipment):
        return None, ""
    return shipping_range(entry, shipment.temperature_class), f"in a {shipment.temperature_class} shipper"

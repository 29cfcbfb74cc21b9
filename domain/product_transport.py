"""What a shipment asks of each product in it: ready to travel, then received, checked and held if need be."""

from __future__ import annotations

from datetime import timedelta

from domain import product_events as ev
from domain import product_exception_events as ex
from domain.errors import OutOfOrder, RuleViolation
from domain.events import NewEvent
from domain.product import ProductState as S
from domain.product import TherapyProduct
from domain.product_checks import check_identity, check_not_on_hold, check_not_terminal, check_state
from domain.product_specs import (
    DEVIATION_RECORDED,
    PRODUCT_QUARANTINED,
    PRODUCT_RECEIVED,
    TEMPERATURE_EXCURSION_RECORDED,
)
from domain.shipment import ReceivedUnit, Shipment, ShipmentReceived, TemperatureClass
from domain.spec import Command
from domain.temperature_verdict import LoggerFigures, check_declared_verdict, shipping_range, within_range

_FRESH_CLASSES = (TemperatureClass.FRESH_2_8C, TemperatureClass.ROOM_TEMPERATURE)


def check_shippable(product: TherapyProduct, leg: ev.Leg, temperature_class: TemperatureClass, field: str) -> None:
    """A product travels only when ready for that leg, not on hold, in the shipper its preservation needs."""
    step = f"ProductShipped ({field})"
    check_not_terminal(product, step)
    if leg == ev.Leg.TO_MANUFACTURER:
        check_state(product, (S.COLLECTED,), step, rule="not_ready_to_ship")
        collection = product.latest_collection
        fresh = collection is not None and collection.preservation == ev.Preservation.FRESH
        needed = _FRESH_CLASSES if fresh else (TemperatureClass.LN2_DRY_SHIPPER,)
        what = "fresh apheresis" if fresh else "cryopreserved apheresis"
    else:
        check_state(product, (S.RELEASED,), step, rule="not_ready_to_ship")
        if not product.released:
            raise OutOfOrder(f"cannot record {step}: the product is not released", rule="not_released")
        needed, what = (TemperatureClass.LN2_DRY_SHIPPER,), "a cryopreserved product"
    check_not_on_hold(product, step)
    if temperature_class not in needed:
        raise RuleViolation(
            f"payload.temperature_class {temperature_class} is not allowed for {what} ({field}); "
            f"use {' or '.join(needed)}",
            field="payload.temperature_class",
            rule="wrong_temperature_class",
        )


def check_at_product_site(product: TherapyProduct, site: str, step: str, field: str) -> None:
    """A product changes site only through a shipment: a step elsewhere than where it is would hide a move.

    The product's site is where its last custody step left it (collection, receipt of a
    shipment, storage); a step naming another site is refused, so the way around is the
    shipment that really carries the product there.
    """
    here = product.location.site if product.location is not None else None
    if here is not None and site != here:
        raise RuleViolation(
            f"{field} {site!r} is not where the product is ({here!r}): cannot record {step} there; a product "
            "changes site only through a shipment (ShipmentDispatched, then ShipmentReceived)",
            field=field,
            rule="site_change_without_shipment",
        )


def receipt_events(
    cmd: Command, product: TherapyProduct, shipment: Shipment, unit: ReceivedUnit, field: str
) -> list[NewEvent]:
    """Receive one product: its identity must match; what went wrong on the way is recorded and held."""
    receipt: ShipmentReceived = cmd.payload
    step = f"ProductReceived ({field})"
    check_not_terminal(product, step)
    check_state(product, (S.IN_TRANSIT,), step)
    if product.shipment_id != str(shipment.id):
        raise OutOfOrder(
            f"{field}: the product travels in shipment {product.shipment_id}, not this one",
            field=f"{field}.product_id",
            rule="not_in_this_shipment",
        )
    check_identity(cmd, product, step, f"{field}.scanned_coi", unit.scanned_coi)
    figures = LoggerFigures(receipt.min_c, receipt.max_c, receipt.excursion_min)
    temperature_ok = _judge_shipping(cmd, product, shipment, figures, field)
    received = ev.ProductReceived(
        shipment_id=str(shipment.id),
        site=receipt.site,
        leg=ev.Leg(shipment.leg),
        scanned_coi=unit.scanned_coi,
        seal_intact=receipt.seal_intact,
        temperature_ok=temperature_ok,
        condition=unit.condition,
        certificate_of_release_checked=receipt.certificate_of_release_checked,
        min_c=figures.min_c,
        max_c=figures.max_c,
        excursion_min=figures.excursion_min,
    )
    events = [cmd.derive(PRODUCT_RECEIVED, product.id, received)]
    problems = _receipt_problems(cmd, product, shipment, unit)
    for problem in problems:
        deviation = ex.DeviationRecorded(problem, ex.Severity.MAJOR, f"receipt at {receipt.site}")
        events.append(cmd.derive(DEVIATION_RECORDED, product.id, deviation))
    if problems and not product.quarantined:
        events.append(cmd.derive(PRODUCT_QUARANTINED, product.id, ex.ProductQuarantined("; ".join(problems))))
    if not temperature_ok:
        excursion = ex.TemperatureExcursionRecorded(
            ex.ExcursionContext.SHIPPING, figures.max_c, figures.excursion_min, figures.min_c, shipment.data_logger_id
        )
        events.append(cmd.derive(TEMPERATURE_EXCURSION_RECORDED, product.id, excursion, by_ledger=True))
    return events


def _judge_shipping(
    cmd: Command, product: TherapyProduct, shipment: Shipment, figures: LoggerFigures, field: str
) -> bool:
    """The ledger's verdict on the logger's figures for this product; a declared one must agree.

    The range depends on the product (an LN2 dry shipper's limit is the product's own), so a
    shipper carrying two products may be within one's range and outside the other's.
    """
    receipt: ShipmentReceived = cmd.payload
    acceptable = shipping_range(cmd.catalogue.get(product.product_code), shipment.temperature_class)
    within = within_range(figures, acceptable)
    check_declared_verdict(
        receipt.temperature_ok,
        within,
        f"{figures.describe()}, data logger {shipment.data_logger_id}",
        f"{acceptable.describe()} for {product.product_code} in a {shipment.temperature_class} shipper ({field})",
        "payload.temperature_ok",
    )
    return within


def _receipt_problems(cmd: Command, product: TherapyProduct, shipment: Shipment, unit: ReceivedUnit) -> list[str]:
    """The physical facts of a receipt that hold the product: late fresh cells, broken seal, damaged bag."""
    receipt: ShipmentReceived = cmd.payload
    problems: list[str] = []
    collection = product.latest_collection
    fresh = collection is not None and collection.preservation == ev.Preservation.FRESH
    if shipment.leg == ev.Leg.TO_MANUFACTURER and fresh and collection is not None:
        entry = cmd.catalogue.get(product.product_code)
        room = shipment.temperature_class == TemperatureClass.ROOM_TEMPERATURE
        hours = entry.fresh_room_temperature_window_h if room else entry.fresh_shipping_window_h
        elapsed = cmd.occurred_at - collection.ended_at
        if elapsed > timedelta(hours=hours):
            problems.append(
                f"fresh apheresis {collection.din} received {elapsed.total_seconds() / 3600:.1f} h after "
                f"collection ended; the {shipment.temperature_class} window is {hours:g} h"
            )
    if not (receipt.seal_intact and shipment.seal_intact):
        problems.append("shipper seal found broken: notify the sender")
    if unit.condition == ev.Condition.DAMAGED:
        problems.append("bag found damaged on receipt: notify the manufacturer")
    return problems
